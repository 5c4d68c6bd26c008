//! `copresence`: the command line of the Copresence presence service.
//!
//! - [`cli`]: the options and subcommands (clap).
//! - [`config`]: server and token from flags, environment or the config file.
//! - [`login`]: `login` and `logout` with the organisation's account; [`kept`]: where the
//!   sign-in is kept between runs.
//! - [`commands`]: `whoami`, `sites`, `leave`, `save`.
//! - [`join`]: `join`, with heartbeats until Ctrl-C or SIGTERM.
//! - [`watch`]: `watch`, the live stream as text or JSON lines.
//! - [`render`]: how everything reads on a terminal.
//! - [`output`]: line-at-a-time, flushed standard output.
//!
//! Exit codes: 0 ok, 1 error, 3 save conflict.

mod cli;
mod commands;
mod config;
mod join;
mod kept;
mod login;
mod output;
mod render;
mod watch;

use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Result;
use clap::Parser;
use copresence_client::signin::RenewedToken;
use copresence_client::Client;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::output::Out;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // Whoever read our output went away (`| head`): nothing left to say.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `COPRESENCE_LOG` (or `RUST_LOG`) sets the filter, warnings by default.
fn init_logging() {
    let filter = EnvFilter::try_from_env("COPRESENCE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let server = config::resolve(cli.server, cli.token, cli.config.as_deref())?;
    if let Some(warning) = copresence_client::cleartext_warning(&server.server) {
        eprintln!("warning: {warning}");
    }
    let mut out = Out::new();
    match cli.command {
        Command::Login { browser } => return login::login(&server, &mut out, browser).await,
        Command::Logout => return login::logout(&server, &mut out).await,
        _ => {}
    }
    let (client, signed_in) = connect(&server)?;
    match cli.command {
        Command::Login { .. } | Command::Logout => unreachable!("answered above"),
        Command::Whoami { json } => commands::whoami(&client, &mut out, json, &signed_in).await,
        Command::Sites { json } => commands::sites(&client, &mut out, json).await,
        Command::Watch {
            sites,
            json,
            session,
        } => watch::run(&client, &mut out, sites, session, json).await,
        Command::Join {
            site,
            page,
            session,
            client: client_name,
            title,
            url,
            once,
        } => {
            let args = join::JoinArgs {
                site,
                page,
                session,
                client: client_name,
                title,
                url,
                once,
            };
            join::run(&client, &mut out, args).await
        }
        Command::Leave { site, session } => {
            commands::leave(&client, &mut out, &site, &session).await
        }
        Command::Save {
            site,
            page,
            base_version,
            force,
        } => commands::save(&client, &mut out, &site, &page, base_version, force).await,
    }
}

/// A client with the token given, or else with the kept sign-in (renewed as it expires), and
/// how it signs in, for people.
fn connect(server: &config::Server) -> Result<(Client, String)> {
    if let Some(token) = &server.token {
        return Ok((
            Client::new(&server.server, token)?,
            "with a token".to_owned(),
        ));
    }
    let kept = kept::load(&server.dir, &server.server).ok_or_else(|| server.not_signed_in())?;
    let how = format!(
        "with your organisation's account ({})",
        kept.provider.issuer
    );
    let keeper = kept::Keeper {
        dir: server.dir.clone(),
        server: server.server.clone(),
    };
    let source = RenewedToken::new(kept, Arc::new(keeper))?;
    Ok((
        Client::with_token_source(&server.server, Arc::new(source))?,
        how,
    ))
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
