//! `copresence-server`: serve, import an organisation, issue tokens, or run the demo.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use copresence_server::clock::now_ms;
use copresence_server::org::Organisation;
use copresence_server::presence::memory::MemoryPresence;
use copresence_server::presence::{Presence, PresenceConfig};
use copresence_server::store::Store;
use copresence_server::{demo, ServeOptions, Server};
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "copresence-server",
    version,
    about = "The Copresence presence service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on ADDR with the data in DIR.
    Serve(ServeArgs),
    /// Insert or update users, sites, pages and memberships from an organisation file (TOML).
    Import {
        #[arg(long, env = "COPRESENCE_DATA")]
        data: PathBuf,
        file: PathBuf,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import a demo organisation, print a token for you@example.com, and serve it with
    /// simulated makers joining, moving, saving and leaving.
    Demo(ServeArgs),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a new token for a user; prints it as the last line. Only its hash is stored.
    Issue {
        #[arg(long, env = "COPRESENCE_DATA")]
        data: PathBuf,
        #[arg(long)]
        email: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "COPRESENCE_LISTEN", default_value = "127.0.0.1:7878")]
    listen: String,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "COPRESENCE_DATA")]
    data: PathBuf,
    /// A session with no heartbeat for this long leaves.
    #[arg(long, env = "COPRESENCE_SESSION_TTL", default_value = "45s", value_parser = humantime::parse_duration)]
    session_ttl: Duration,
    /// A session whose event stream dropped leaves after this, unless the stream comes back.
    #[arg(long, env = "COPRESENCE_RECONNECT_GRACE", default_value = "5s", value_parser = humantime::parse_duration)]
    reconnect_grace: Duration,
    /// Browser origin allowed to call the API (repeatable, or comma-separated in the variable).
    #[arg(
        long = "allow-origin",
        env = "COPRESENCE_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    allow_origin: Vec<String>,
    /// How long an EventSource ticket stays valid.
    #[arg(long, env = "COPRESENCE_TICKET_LIFETIME", default_value = "5m", value_parser = humantime::parse_duration)]
    ticket_lifetime: Duration,
    /// Recent events kept for Last-Event-ID resume.
    #[arg(long, env = "COPRESENCE_REPLAY_BUFFER", default_value_t = 4096)]
    replay_buffer: usize,
}

impl ServeArgs {
    fn presence(&self) -> PresenceConfig {
        PresenceConfig {
            session_ttl: self.session_ttl,
            reconnect_grace: self.reconnect_grace,
            replay_capacity: self.replay_buffer,
        }
    }

    fn options(&self) -> ServeOptions {
        ServeOptions {
            allow_origins: self.allow_origin.clone(),
            ticket_lifetime: self.ticket_lifetime,
        }
    }
}

async fn open(data: &std::path::Path) -> Result<Store> {
    Store::open_dir(data)
        .await
        .with_context(|| format!("cannot open the store in {}", data.display()))
}

async fn serve(args: &ServeArgs, store: Store, presence: Arc<dyn Presence>) -> Result<()> {
    let server = Server::bind(&args.listen, store, presence, &args.options())
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = server.local_addr()?;
    // Scripts and tests read this line to learn the port.
    println!("copresence-server listening on http://{addr}");
    std::io::stdout().flush()?;
    tokio::select! {
        served = server.run() => served.context("the server stopped")?,
        _ = shutdown_signal() => tracing::info!("shutting down"),
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "copresence_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => {
            let store = open(&args.data).await?;
            let presence = MemoryPresence::start(args.presence());
            serve(&args, store, presence).await
        }
        Command::Import { data, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let org = Organisation::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = open(&data).await?;
            store.import(&org).await?;
            println!(
                "imported {} users and {} sites from {}",
                org.users.len(),
                org.sites.len(),
                file.display()
            );
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Issue { data, email },
        } => {
            let store = open(&data).await?;
            let token = store.issue_token(&email, now_ms()).await?;
            eprintln!("token for {email} (shown once; only its hash is stored):");
            println!("{token}");
            Ok(())
        }
        Command::Demo(args) => {
            let store = open(&args.data).await?;
            let token = demo::prepare(&store, &args.data).await?;
            let presence = MemoryPresence::start(args.presence());
            eprintln!(
                "demo: signed in as {} with the token in {}",
                demo::YOU,
                args.data.join(demo::TOKEN_FILE).display()
            );
            println!("COPRESENCE_TOKEN={token}");
            tokio::spawn(demo::run_makers(store.clone(), presence.clone()));
            serve(&args, store, presence).await
        }
    }
}
