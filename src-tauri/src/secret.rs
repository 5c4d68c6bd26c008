//! The one place the token is kept: the operating system's keychain, or — when no keychain
//! runs (a bare Linux session) — a file in the configuration directory readable only by the
//! user, with a warning the settings show. `COPRESENCE_TOKEN` overrides both and is never
//! written anywhere.

use std::path::{Path, PathBuf};

use copresence_client::signin::KeptSignIn;
use sha2::Digest;

use crate::view::TokenStorage;

const SERVICE: &str = "copresence";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot keep the token: {0}")]
    Io(#[from] std::io::Error),
}

/// What is kept for a server: an operator token, or a sign-in with the organisation's account
/// (its tokens and how to renew them).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Token(String),
    SignIn(Box<KeptSignIn>),
}

impl Credential {
    /// Read what was kept: a sign-in is kept as JSON, a token as itself (as before sign-ins).
    pub fn from_kept(kept: &str) -> Credential {
        match serde_json::from_str::<KeptSignIn>(kept) {
            Ok(sign_in) => Credential::SignIn(Box::new(sign_in)),
            Err(_) => Credential::Token(kept.to_owned()),
        }
    }

    /// What to keep.
    pub fn to_kept(&self) -> String {
        match self {
            Credential::Token(token) => token.clone(),
            Credential::SignIn(sign_in) => {
                serde_json::to_string(sign_in).expect("a sign-in always serialises")
            }
        }
    }
}

/// Never the token itself: effects and inputs are logged.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(…)"),
            Credential::SignIn(sign_in) => f.debug_tuple("SignIn").field(sign_in).finish(),
        }
    }
}

/// Where the credential came from, and what to warn about.
#[derive(Clone, PartialEq, Eq)]
pub struct Loaded {
    pub credential: Option<Credential>,
    pub storage: TokenStorage,
    pub warning: Option<String>,
}

/// Never the token itself: inputs are logged.
impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("credential", &self.credential)
            .field("storage", &self.storage)
            .field("warning", &self.warning)
            .finish()
    }
}

/// The file kept for `server` when no keychain answers: one per server, named by a hash of its
/// address (each account its own), holding the server's address and then the credential.
fn token_file(dir: &Path, server: &str) -> PathBuf {
    let digest = sha2::Sha256::digest(server.as_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("token-{name}"))
}

/// The one file versions with one account kept.
fn single_account_file(dir: &Path) -> PathBuf {
    dir.join("token")
}

fn file_warning(dir: &Path, server: &str) -> String {
    // On Unix the file is made 0600; elsewhere it is as private as the user profile it is in.
    let who_reads = if cfg!(unix) {
        "readable only by you"
    } else {
        "in your user profile"
    };
    format!(
        "No system keychain is available, so your sign-in is kept in {} ({who_reads}).",
        token_file(dir, server).display()
    )
}

fn entry(server: &str) -> Option<keyring::Entry> {
    keyring::Entry::new(SERVICE, server).ok()
}

/// The token for `server`.
pub fn load(dir: &Path, server: &str) -> Loaded {
    if let Some(token) = std::env::var("COPRESENCE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Loaded {
            credential: Some(Credential::Token(token)),
            storage: TokenStorage::Environment,
            warning: None,
        };
    }
    if let Some(kept) = entry(server).and_then(|e| e.get_password().ok()) {
        return Loaded {
            credential: Some(Credential::from_kept(&kept)),
            storage: TokenStorage::Keychain,
            warning: None,
        };
    }
    let kept = std::fs::read_to_string(token_file(dir, server))
        .or_else(|_| std::fs::read_to_string(single_account_file(dir)));
    match kept
        .as_deref()
        .ok()
        .and_then(|text| file_token_for(text, server))
    {
        Some(kept) => Loaded {
            credential: Some(Credential::from_kept(kept)),
            storage: TokenStorage::File,
            warning: Some(file_warning(dir, server)),
        },
        None => Loaded {
            credential: None,
            storage: TokenStorage::None,
            warning: None,
        },
    }
}

/// The token the fallback file keeps for `server`: the file names the server on its first line
/// and the token on its second, so a token is never sent to another server than its own. A file
/// without the server's line (as earlier versions wrote) gives none: sign in again.
fn file_token_for<'a>(text: &'a str, server: &str) -> Option<&'a str> {
    let (kept_for, token) = text.split_once('\n')?;
    let token = token.trim();
    (kept_for.trim() == server && !token.is_empty()).then_some(token)
}

/// Keep `credential` for `server`: in the keychain when one answers (and takes it: Windows'
/// Credential Manager holds 2,560 bytes), else in a private file.
pub fn store(dir: &Path, server: &str, credential: &Credential) -> Result<Loaded, SecretError> {
    let kept = credential.to_kept();
    let in_keychain = entry(server).is_some_and(|e| e.set_password(&kept).is_ok());
    if in_keychain {
        // A token left in the fallback file by an earlier session must not outlive this one.
        remove_files(dir, server);
        return Ok(Loaded {
            credential: Some(credential.clone()),
            storage: TokenStorage::Keychain,
            warning: None,
        });
    }
    write_private(&token_file(dir, server), &format!("{server}\n{kept}\n"))?;
    remove_single_account_file(dir, server);
    Ok(Loaded {
        credential: Some(credential.clone()),
        storage: TokenStorage::File,
        warning: Some(file_warning(dir, server)),
    })
}

/// Forget the token for `server`, wherever it was kept.
pub fn clear(dir: &Path, server: &str) {
    if let Some(entry) = entry(server) {
        let _ = entry.delete_credential();
    }
    remove_files(dir, server);
}

fn remove_files(dir: &Path, server: &str) {
    let _ = std::fs::remove_file(token_file(dir, server));
    remove_single_account_file(dir, server);
}

/// The single-account file goes once its credential has moved, when it was this server's.
fn remove_single_account_file(dir: &Path, server: &str) {
    let path = single_account_file(dir);
    let ours = std::fs::read_to_string(&path)
        .ok()
        .is_some_and(|text| file_token_for(&text, server).is_some());
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // The mode only applies to a new file: tighten an existing one too.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::io::Write::write_all(&mut file, contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback file replaces what was there; on Unix only its owner may read it (elsewhere
    /// the user profile's own access rules apply).
    #[test]
    fn the_fallback_file_is_replaced_and_readable_only_by_its_owner() {
        let dir = std::env::temp_dir().join(format!("copresence-secret-{}", std::process::id()));
        let path = token_file(&dir, "https://a.test");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "an older, longer token").unwrap();
        write_private(&path, "cpt_x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "cpt_x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_fallback_file_gives_its_token_to_its_own_server_only() {
        let kept = "https://a.test\ncpt_a\n";
        assert_eq!(file_token_for(kept, "https://a.test"), Some("cpt_a"));
        assert_eq!(file_token_for(kept, "https://b.test"), None);
        assert_eq!(file_token_for("cpt_old", "https://a.test"), None);
        assert_eq!(
            file_token_for("https://a.test\n  \n", "https://a.test"),
            None
        );
    }

    #[test]
    fn each_server_has_its_own_file_and_the_single_account_one_is_still_read() {
        let dir = std::env::temp_dir().join(format!("copresence-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_ne!(
            token_file(&dir, "https://a.test"),
            token_file(&dir, "https://b.test")
        );
        // What a one-account version kept is found for its server, and moves on the next keep.
        std::fs::write(single_account_file(&dir), "https://a.test\ncpt_old\n").unwrap();
        let kept = std::fs::read_to_string(single_account_file(&dir)).unwrap();
        assert_eq!(file_token_for(&kept, "https://a.test"), Some("cpt_old"));
        write_private(
            &token_file(&dir, "https://a.test"),
            "https://a.test\ncpt_new\n",
        )
        .unwrap();
        remove_single_account_file(&dir, "https://b.test");
        assert!(
            single_account_file(&dir).exists(),
            "another server's is left alone"
        );
        remove_single_account_file(&dir, "https://a.test");
        assert!(!single_account_file(&dir).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
