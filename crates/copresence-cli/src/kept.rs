//! Where `copresence login` keeps the sign-in between runs: the system keychain when one
//! answers, else a file in the config directory readable only by you. One sign-in per server.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use copresence_client::signin::{KeptSignIn, SignInKeeper};
use sha2::Digest;

const KEYCHAIN_SERVICE: &str = "copresence-cli";

/// The file a sign-in is kept in when no keychain answers.
fn file_for(dir: &Path, server: &str) -> PathBuf {
    // One file per server, named by a hash of its address: any server name makes a file name.
    let digest = sha2::Sha256::digest(server.as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("sign-in-{name}.json"))
}

fn entry(server: &str) -> Option<keyring::Entry> {
    keyring::Entry::new(KEYCHAIN_SERVICE, server).ok()
}

/// The sign-in kept for `server`, if any.
pub fn load(dir: &Path, server: &str) -> Option<KeptSignIn> {
    let text = entry(server)
        .and_then(|e| e.get_password().ok())
        .or_else(|| std::fs::read_to_string(file_for(dir, server)).ok())?;
    serde_json::from_str::<KeptSignIn>(&text)
        .ok()
        .filter(|kept| kept.server == server)
}

/// Keep `kept` for its server. Returns where it went, for people.
pub fn store(dir: &Path, kept: &KeptSignIn) -> Result<String> {
    let text = serde_json::to_string(kept).context("cannot write the sign-in down")?;
    if entry(&kept.server).is_some_and(|e| e.set_password(&text).is_ok()) {
        let _ = std::fs::remove_file(file_for(dir, &kept.server));
        return Ok("the system keychain".into());
    }
    let path = file_for(dir, &kept.server);
    write_private(&path, &text)
        .with_context(|| format!("cannot keep the sign-in in {}", path.display()))?;
    Ok(format!("{} (readable only by you)", path.display()))
}

/// The sign-in kept for one server, as the client library renews it: under a lock file beside
/// it, so two `copresence` commands never both spend the same refresh token.
pub struct Keeper {
    pub dir: PathBuf,
    pub server: String,
}

impl SignInKeeper for Keeper {
    fn lock(&self) -> std::io::Result<Box<dyn Send>> {
        std::fs::create_dir_all(&self.dir)?;
        let path = file_for(&self.dir, &self.server).with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // Released when the file is closed, with the box.
        file.lock()?;
        Ok(Box::new(file))
    }

    fn load(&self) -> Option<KeptSignIn> {
        load(&self.dir, &self.server)
    }

    fn keep(&self, kept: &KeptSignIn) {
        if let Err(error) = store(&self.dir, kept) {
            tracing::warn!(%error, "cannot keep the renewed sign-in");
        }
    }
}

/// Forget the sign-in kept for `server`, wherever it was.
pub fn forget(dir: &Path, server: &str) {
    if let Some(entry) = entry(server) {
        let _ = entry.delete_credential();
    }
    let _ = std::fs::remove_file(file_for(dir, server));
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    // A file left there (by a crash, or by someone else) is not written through.
    let _ = std::fs::remove_file(&temporary);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        std::io::Write::write_all(&mut file, contents.as_bytes())?;
    }
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_has_its_own_file() {
        let dir = Path::new("/x");
        assert_ne!(
            file_for(dir, "https://a.test"),
            file_for(dir, "https://b.test")
        );
        assert_eq!(
            file_for(dir, "https://a.test"),
            file_for(dir, "https://a.test")
        );
    }
}
