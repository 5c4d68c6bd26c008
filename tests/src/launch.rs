//! Starting a program that announces its `http://` address, and running `copresence-server`'s
//! administration commands: the mechanics both the test harness ([`crate::TestServer`]) and the
//! bench (`copresence-bench`) need, kept here once so the two start and provision the service
//! the same way.
//!
//! Everything here returns errors rather than panicking, because the bench reports them as a
//! program does; the harness turns them into a test's panic.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A started program and the address it announced.
pub struct Listening {
    /// Killed when dropped.
    pub child: Child,
    /// The first `http://…` word it printed on standard output, e.g. `http://127.0.0.1:PORT`.
    pub url: String,
}

/// Why [`start`] failed. A type of its own (rather than `anyhow`) so a caller can tell a
/// program that never ran from one that ran and failed, whose standard error may say why.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot start {}: {error}", program.display())]
    Spawn {
        program: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot read the standard output of {}: {error}", program.display())]
    Read {
        program: PathBuf,
        error: std::io::Error,
    },
    #[error("{} exited without announcing its address", program.display())]
    Exited { program: PathBuf },
    #[error("{} did not announce its address within {} s", program.display(), within.as_secs())]
    Silent { program: PathBuf, within: Duration },
}

/// Start `program args…` and wait up to `within` for a line on its standard output with its
/// `http://` address (lines before it are skipped). Its standard error goes to `stderr`, its
/// standard input is closed, and it is killed when the returned [`Child`] is dropped.
pub async fn start(
    program: &Path,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    stderr: Stdio,
    within: Duration,
) -> Result<Listening, StartError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| StartError::Spawn {
            program: program.to_owned(),
            error,
        })?;
    let stdout = child.stdout.take().expect("stdout was piped just above");
    let mut lines = BufReader::new(stdout).lines();
    let announced = tokio::time::timeout(within, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return Ok(Some(url.to_owned()));
            }
        }
        Ok::<_, std::io::Error>(None)
    })
    .await;
    let program = program.to_owned();
    let url = match announced {
        Ok(Ok(Some(url))) => url,
        Ok(Ok(None)) => return Err(StartError::Exited { program }),
        Ok(Err(error)) => return Err(StartError::Read { program, error }),
        Err(_) => return Err(StartError::Silent { program, within }),
    };
    // Keep draining stdout so the program never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Listening { child, url })
}

/// Run the `copresence-server` binary at `server` with an administration command (`import …`,
/// `token issue …`) and return its standard output; an error carries its standard error.
/// Blocking, because the harness runs these from synchronous methods.
pub fn admin(server: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new(server)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", server.display()))?;
    if !output.status.success() {
        bail!(
            "copresence-server {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A new bearer token for the user with this e-mail, from `copresence-server token issue` on the
/// store that `store` names (`--data DIR` or `--database URL`). Blocking, like [`admin`].
pub fn issue_token(server: &Path, store: &[&str], email: &str) -> anyhow::Result<String> {
    let mut args = vec!["token", "issue"];
    args.extend(store);
    args.extend(["--email", email]);
    let out = admin(server, &args)?;
    // `token issue` promises the token as its last line of output (see its `--help`).
    out.lines()
        .last()
        .map(|line| line.trim().to_owned())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| anyhow!("`token issue` printed no token for {email}"))
}
