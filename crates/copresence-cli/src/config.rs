//! Where the server and the token come from: flags, then environment (clap merges those two),
//! then the config file; without a token, the sign-in `copresence login` kept ([`crate::kept`]).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

/// The config file's keys; both optional, unknown keys ignored.
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    server: Option<String>,
    token: Option<String>,
}

/// The server, and the token given (flag, environment, config file), if one was.
pub struct Server {
    pub server: String,
    pub token: Option<String>,
    /// Where a kept sign-in goes: beside the config file.
    pub dir: PathBuf,
    /// The config file, as people should be told of it.
    shown: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// What to say when there is neither a token nor a kept sign-in.
    pub fn not_signed_in(&self) -> anyhow::Error {
        anyhow!(
            "no token: run `copresence login`, or pass --token, set COPRESENCE_TOKEN or add \
             token = \"...\" to {}",
            self.shown
        )
    }
}

/// Resolve the server, and the token if one is given (flag or environment win over the file);
/// without one, a kept sign-in serves. A file given with `--config` must exist; the default
/// one may be missing.
pub fn resolve(
    server: Option<String>,
    token: Option<String>,
    config: Option<&Path>,
) -> Result<Server> {
    let explicit = config.is_some();
    let path = config.map(Path::to_path_buf).or_else(default_path);
    let file = match &path {
        Some(path) => load(path, explicit)?,
        None => FileConfig::default(),
    };
    let shown = path.as_deref().map_or_else(
        || "a config file (--config PATH)".to_owned(),
        |p| p.display().to_string(),
    );
    let server = non_empty(server).or(non_empty(file.server)).ok_or_else(|| {
        anyhow!("no server: pass --server, set COPRESENCE_SERVER or add server = \"https://...\" to {shown}")
    })?;
    let dir = path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Server {
        server: server.trim_end_matches('/').to_owned(),
        token: non_empty(token).or(non_empty(file.token)),
        dir,
        shown,
    })
}

/// The default config file: `<config dir>/copresence/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("copresence").join("config.toml"))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn load(path: &Path, must_exist: bool) -> Result<FileConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(FileConfig::default())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    parse(&text).with_context(|| format!("invalid config file {}", path.display()))
}

/// Parse the file. The error names the line but never quotes it: it may hold the token.
fn parse(text: &str) -> Result<FileConfig> {
    toml::from_str(text).or_else(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => bail!("line {line}: {}", e.message()),
            None => bail!("{}", e.message()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "server = \"http://file.test\"\ntoken = \"file-token\"\n",
        );
        let s = resolve(Some("http://flag.test".into()), None, Some(&path)).unwrap();
        assert_eq!(s.server, "http://flag.test");
        assert_eq!(s.token.as_deref(), Some("file-token"));
        let s = resolve(None, Some(" ".into()), Some(&path)).unwrap();
        assert_eq!(s.server, "http://file.test");
        assert_eq!(s.token.as_deref(), Some("file-token"));
        assert_eq!(
            s.dir,
            dir.path(),
            "a sign-in is kept beside the config file"
        );
    }

    #[test]
    fn missing_values_say_where_to_put_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "# nothing\nother = 1\n");
        let err = resolve(None, Some("t".into()), Some(&path)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("no server: pass --server, set COPRESENCE_SERVER"),
            "{text}"
        );
        assert!(text.contains(&path.display().to_string()), "{text}");
        let s = resolve(Some("http://h.test".into()), None, Some(&path)).unwrap();
        assert_eq!(s.token, None);
        let text = s.not_signed_in().to_string();
        assert!(
            text.starts_with("no token: run `copresence login`"),
            "{text}"
        );
        assert!(text.contains(&path.display().to_string()), "{text}");
    }

    #[test]
    fn an_explicit_config_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert!(resolve(Some("http://h".into()), Some("t".into()), Some(&missing)).is_err());
    }

    #[test]
    fn parse_errors_never_quote_the_file() {
        let err = parse("server = \"http://h.test\"\ntoken = s3cr3t-unquoted\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.starts_with("line 2:"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn settings_debug_hides_the_token() {
        let s = resolve(
            Some("http://h.test".into()),
            Some("s3cr3t".into()),
            Some(&write(&tempfile::tempdir().unwrap(), "")),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }
}
