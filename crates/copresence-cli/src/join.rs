//! `join`: publish a session, keep it alive with heartbeats, close it on Ctrl-C or SIGTERM.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use copresence_client::{Backoff, Client};
use copresence_core::{
    validate_client, validate_page_path, validate_page_title, validate_session_id, PutSession,
    SessionState,
};

use crate::commands::explain;
use crate::output::Out;
use crate::render::seconds;

/// The shortest heartbeat period honoured, whatever the server says.
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
/// The first retry after a failed heartbeat.
const FIRST_RETRY: Duration = Duration::from_secs(1);

pub struct JoinArgs {
    pub site: String,
    pub page: String,
    pub session: Option<String>,
    pub client: String,
    /// The page's title, for a page the site adds when it is opened.
    pub title: Option<String>,
    /// The web editor tab's address, for the service to keep with the session.
    pub url: Option<String>,
    pub once: bool,
}

pub async fn run(client: &Client, out: &mut Out, args: JoinArgs) -> Result<ExitCode> {
    let JoinArgs {
        site,
        page,
        session,
        client: client_name,
        title,
        url,
        once,
    } = args;
    validate_page_path(&page).map_err(|e| anyhow!("{page:?}: {e}"))?;
    if let Some(title) = &title {
        validate_page_title(title).map_err(|e| anyhow!("{title:?}: {e}"))?;
    }
    validate_client(&client_name).map_err(|e| anyhow!("{client_name:?}: {e}"))?;
    let session = session.unwrap_or_else(new_session_id);
    validate_session_id(&session).map_err(|e| anyhow!("{session:?}: {e}"))?;
    let body = PutSession {
        page: page.clone(),
        client: client_name,
        title,
        url,
    };

    let state = client
        .put_session(&site, &session, &body)
        .await
        .map_err(explain)?;
    if once {
        out.line(format!(
            "joined {site} on {page} as session {session} (it expires in {} without a heartbeat)",
            seconds(Duration::from_millis(state.ttl_ms))
        ))?;
        return Ok(ExitCode::SUCCESS);
    }

    // Listen before saying we joined: a SIGTERM right after the line must still leave.
    let mut shutdown = Shutdown::install()?;
    out.line(format!(
        "joined {site} on {page} as session {session}; Ctrl-C to leave"
    ))?;

    let mut period = heartbeat_period(&state);
    let mut backoff = Backoff::new(FIRST_RETRY, period);
    let mut wait = period;
    let mut failing = false;
    loop {
        tokio::select! {
            () = shutdown.recv() => break,
            () = tokio::time::sleep(wait) => {}
        }
        let result = tokio::select! {
            () = shutdown.recv() => break,
            result = client.put_session(&site, &session, &body) => result,
        };
        match result {
            Ok(state) => {
                if failing {
                    eprintln!("heartbeat ok again");
                    failing = false;
                }
                backoff.reset();
                period = heartbeat_period(&state);
                wait = period;
            }
            Err(err) if err.is_unauthorized() || err.is_not_found() => {
                return Err(explain(err)).context("heartbeat refused");
            }
            Err(err) => {
                wait = backoff
                    .next_delay()
                    .max(err.retry_after().unwrap_or_default());
                eprintln!("heartbeat failed: {err}; retrying in {}", seconds(wait));
                failing = true;
            }
        }
    }

    let result = tokio::select! {
        result = client.delete_session(&site, &session) => result,
        () = shutdown.recv() => {
            eprintln!("interrupted while leaving; the session will expire by itself");
            return Ok(ExitCode::FAILURE);
        }
    };
    match result {
        Ok(()) => out.line("left")?,
        Err(err) if err.is_not_found() => out.line("left (the session had already ended)")?,
        Err(err) => {
            return Err(explain(err)).context("could not leave; the session will expire by itself")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn heartbeat_period(state: &SessionState) -> Duration {
    Duration::from_millis(state.heartbeat_ms).max(MIN_HEARTBEAT)
}

/// `cli-` and 16 random hex digits.
fn new_session_id() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    format!("cli-{:016x}", hasher.finish())
}

/// Ctrl-C and (on unix) SIGTERM, listened for from creation on.
struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    #[cfg(unix)]
    fn install() -> Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Shutdown {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> Result<Shutdown> {
        Ok(Shutdown {})
    }

    /// Wait for the next signal (cancel-safe).
    #[cfg(unix)]
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn recv(&mut self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_session_ids_are_valid_and_distinct() {
        let a = new_session_id();
        let b = new_session_id();
        assert!(validate_session_id(&a).is_ok(), "{a}");
        assert!(a.starts_with("cli-"));
        assert_ne!(a, b);
    }

    #[test]
    fn heartbeat_period_has_a_floor() {
        let state = |ms| SessionState {
            session: copresence_core::fixtures::session("s", "/"),
            ttl_ms: 45_000,
            heartbeat_ms: ms,
        };
        assert_eq!(heartbeat_period(&state(15_000)), Duration::from_secs(15));
        assert_eq!(heartbeat_period(&state(0)), MIN_HEARTBEAT);
    }
}
