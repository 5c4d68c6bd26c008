//! `copresence-server`: serve, import an organisation, issue tokens, or run the demo.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use copresence_server::auth::claims::ClaimNames;
use copresence_server::auth::oidc::{IssuerConfig, OidcSettings};
use copresence_server::clock::now_ms;
use copresence_server::connections::{self, ConnectionLimits};
use copresence_server::http::redirect::{SignInReturns, DEFAULT_SIGN_IN_RETURNS};
use copresence_server::org::Organisation;
use copresence_server::presence::memory::MemoryPresence;
use copresence_server::presence::redis::RedisPresence;
use copresence_server::presence::{Presence, PresenceConfig};
use copresence_server::ratelimit::{Rate, Rates};
use copresence_server::readcache;
use copresence_server::store::{PageLimits, PruneReport, Store, DEFAULT_MAX_PAGES_PER_SITE};
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
        #[command(flatten)]
        store: StoreArgs,
        file: PathBuf,
        /// Also remove the members and pages of the file's sites, and the users, that the
        /// file no longer lists (in the same transaction). Their open event streams end.
        /// Pages a site's editors added stay while the site has open_pages.
        #[arg(long)]
        prune: bool,
        /// With --prune: print what would be removed, and change nothing.
        #[arg(long, requires = "prune")]
        dry_run: bool,
        /// Pages a site may hold (as serve's flag): no editor's pages table may list more.
        #[arg(long, env = "COPRESENCE_MAX_PAGES_PER_SITE", default_value_t = DEFAULT_MAX_PAGES_PER_SITE)]
        max_pages_per_site: usize,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import a demo organisation, print a token for you@example.com, and serve it with
    /// simulated makers joining, moving, saving and leaving.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Simulate only the K-th of every N demo makers (K/N), to share them out over the
        /// nodes of a cluster.
        #[arg(long, default_value = "1/1")]
        makers: demo::MakerShare,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a new token for a user (for a bot or a script: people sign in with the
    /// organisation's account); prints it as the last line. Only its hash is stored.
    Issue {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        email: String,
        /// It stops signing in after this (90d, 12h, …); without it, it lasts until revoked.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
    },
    /// List tokens (an id, whose they are, when issued): everyone's, or one user's.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke every token of a user (--email), or one token (--id, as `token list` shows).
    /// Requests with it are refused and its open event streams end within seconds.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, required_unless_present = "id", conflicts_with = "id")]
        email: Option<String>,
        #[arg(long)]
        id: Option<String>,
    },
}

/// Where the durable data lives: the embedded SQLite file in a directory (the default), or a
/// PostgreSQL database shared by several nodes.
#[derive(Args)]
struct StoreArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "COPRESENCE_DATA", required_unless_present = "database")]
    data: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user:password@host/db), used instead of the SQLite
    /// directory (the demo then keeps only its token file in --data).
    #[arg(long, env = "COPRESENCE_DATABASE")]
    database: Option<String>,
    /// Bytes of recent store answers (who a token is, pages, memberships) kept in memory.
    #[arg(long, env = "COPRESENCE_CACHE_BYTES", default_value_t = readcache::DEFAULT_MAX_BYTES)]
    cache_bytes: u64,
}

impl StoreArgs {
    async fn open(&self) -> Result<Store> {
        match (&self.database, &self.data) {
            (Some(url), _) => Store::open(url, self.cache_bytes)
                .await
                .context("cannot open the PostgreSQL store"),
            (None, Some(dir)) => Store::open_dir(dir, self.cache_bytes)
                .await
                .with_context(|| format!("cannot open the store in {}", dir.display())),
            (None, None) => anyhow::bail!("give --data DIR or --database URL"),
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "COPRESENCE_LISTEN", default_value = "127.0.0.1:7878")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Redis URL (redis://host:6379) for live presence shared by several nodes; without it,
    /// presence lives in this process.
    #[arg(long, env = "COPRESENCE_REDIS")]
    redis: Option<String>,
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
    /// Where GET /v1/auth/redirect may send a browser back after sign-in, besides the
    /// --allow-origin origins: an address prefix, scheme://host/… (repeatable, or
    /// comma-separated in the variable). Giving it replaces the default list.
    #[arg(
        long = "sign-in-return",
        env = "COPRESENCE_SIGN_IN_RETURN",
        value_delimiter = ',',
        value_name = "PREFIX",
        default_values = DEFAULT_SIGN_IN_RETURNS
    )]
    sign_in_return: Vec<String>,
    /// How long an EventSource ticket stays valid.
    #[arg(long, env = "COPRESENCE_TICKET_LIFETIME", default_value = "5m", value_parser = humantime::parse_duration)]
    ticket_lifetime: Duration,
    /// Recent events kept for Last-Event-ID resume.
    #[arg(long, env = "COPRESENCE_REPLAY_BUFFER", default_value_t = 4096)]
    replay_buffer: usize,
    /// The most bytes of encoded events kept for Last-Event-ID resume (oldest dropped first).
    #[arg(long, env = "COPRESENCE_REPLAY_BYTES", default_value_t = 16 << 20)]
    replay_bytes: usize,
    /// Sessions (tabs, windows, editors) one user may have open on one site; a new one past
    /// it is refused with 429 too_many_sessions, and none already open is dropped.
    #[arg(long, env = "COPRESENCE_MAX_SESSIONS_PER_SITE", default_value_t = 32)]
    max_sessions_per_site: usize,
    /// Sessions one user may have open on all sites together.
    #[arg(long, env = "COPRESENCE_MAX_SESSIONS_PER_USER", default_value_t = 256)]
    max_sessions_per_user: usize,
    /// Pages one user may add to one site by opening them in an editor (on a site with
    /// open_pages); past it, 400 too_many_pages and nothing is added.
    #[arg(long, env = "COPRESENCE_MAX_PAGES_PER_USER", default_value_t = 200)]
    max_pages_per_user: usize,
    /// Pages a site may hold, listed or added, for its editors to add another.
    #[arg(long, env = "COPRESENCE_MAX_PAGES_PER_SITE", default_value_t = DEFAULT_MAX_PAGES_PER_SITE)]
    max_pages_per_site: usize,
    /// Session changes (join, heartbeat, move, leave) one user may make, as N/PERIOD in
    /// bursts of up to N; past it, 429 too_many_requests with Retry-After.
    #[arg(long, env = "COPRESENCE_RATE_SESSIONS", default_value = "600/min")]
    rate_sessions: Rate,
    /// Saves one user may make, as N/PERIOD.
    #[arg(long, env = "COPRESENCE_RATE_SAVES", default_value = "120/min")]
    rate_saves: Rate,
    /// EventSource tickets one user may take, as N/PERIOD.
    #[arg(long, env = "COPRESENCE_RATE_TICKETS", default_value = "60/min")]
    rate_tickets: Rate,
    /// Open connections on this node [default: the open-file limit less 256].
    #[arg(long, env = "COPRESENCE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Open connections from one client address (an IPv6 /64 counts as one); 0: no cap.
    /// Behind a reverse proxy every client has the proxy's address: raise it or use 0.
    #[arg(
        long,
        env = "COPRESENCE_MAX_CONNECTIONS_PER_IP",
        default_value_t = 1024
    )]
    max_connections_per_ip: usize,
    /// A request head must arrive whole within this, or the connection is closed.
    #[arg(long, env = "COPRESENCE_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    header_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed (event streams
    /// send a keep-alive every 15 s, so only a stalled one goes).
    #[arg(long, env = "COPRESENCE_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
    #[command(flatten)]
    oidc: OidcArgs,
}

/// Sign-in with the organisation's accounts: the service takes access tokens from these
/// OpenID Connect providers (docs/sign-in.md).
#[derive(Args)]
struct OidcArgs {
    /// An OpenID Connect issuer whose access tokens sign people in, exactly as its tokens'
    /// `iss` (repeatable, or comma-separated in the variable). https, or http on this machine.
    #[arg(
        long = "oidc-issuer",
        env = "COPRESENCE_OIDC_ISSUER",
        value_delimiter = ',',
        requires = "audience"
    )]
    issuers: Vec<String>,
    /// What the tokens' `aud` must name: this service's API (an Entra ID application ID URI,
    /// a Keycloak client, …).
    #[arg(long = "oidc-audience", env = "COPRESENCE_OIDC_AUDIENCE")]
    audience: Option<String>,
    /// The public client the tray app and the CLI sign in with, told to them by GET /v1/auth.
    #[arg(long = "oidc-client-id", env = "COPRESENCE_OIDC_CLIENT_ID")]
    client_id: Option<String>,
    /// The scopes they ask for (space-separated).
    #[arg(
        long = "oidc-scopes",
        env = "COPRESENCE_OIDC_SCOPES",
        default_value = "openid profile email offline_access"
    )]
    scopes: String,
    /// The claim with the e-mail (preferred_username, then upn, are tried when it is absent).
    #[arg(
        long = "oidc-email-claim",
        env = "COPRESENCE_OIDC_EMAIL_CLAIM",
        default_value = "email"
    )]
    email_claim: String,
    /// The claim with the display name.
    #[arg(
        long = "oidc-name-claim",
        env = "COPRESENCE_OIDC_NAME_CLAIM",
        default_value = "name"
    )]
    name_claim: String,
    /// The claim with the groups that `group:` members match.
    #[arg(
        long = "oidc-groups-claim",
        env = "COPRESENCE_OIDC_GROUPS_CLAIM",
        default_value = "groups"
    )]
    groups_claim: String,
    /// The claim with the Teams user principal name (preferred_username is tried after it).
    #[arg(
        long = "oidc-teams-claim",
        env = "COPRESENCE_OIDC_TEAMS_CLAIM",
        default_value = "upn"
    )]
    teams_claim: String,
    /// The claim with the profile photo's address.
    #[arg(
        long = "oidc-photo-claim",
        env = "COPRESENCE_OIDC_PHOTO_CLAIM",
        default_value = "picture"
    )]
    photo_claim: String,
    /// Clock skew allowed on a token's exp and nbf.
    #[arg(long = "oidc-leeway", env = "COPRESENCE_OIDC_LEEWAY", default_value = "60s", value_parser = humantime::parse_duration)]
    leeway: Duration,
    /// The least time between two readings of a provider's keys (a token signed with an
    /// unknown key makes the service read them again).
    #[arg(long = "oidc-jwks-min-refresh", env = "COPRESENCE_OIDC_JWKS_MIN_REFRESH", default_value = "60s", value_parser = humantime::parse_duration)]
    jwks_min_refresh: Duration,
    /// Verified access tokens kept in memory, so a heartbeat does not check a signature.
    #[arg(
        long = "oidc-max-verified-tokens",
        env = "COPRESENCE_OIDC_MAX_VERIFIED_TOKENS",
        default_value_t = 10_000
    )]
    max_verified_tokens: usize,
}

impl OidcArgs {
    fn settings(&self) -> Option<OidcSettings> {
        if self.issuers.is_empty() {
            return None;
        }
        let audience = self.audience.clone().unwrap_or_default();
        Some(OidcSettings {
            issuers: self
                .issuers
                .iter()
                .map(|issuer| IssuerConfig {
                    issuer: issuer.trim().to_owned(),
                    audience: audience.clone(),
                    client_id: self.client_id.clone(),
                    scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
                })
                .collect(),
            claims: ClaimNames {
                email: self.email_claim.clone(),
                name: self.name_claim.clone(),
                groups: self.groups_claim.clone(),
                teams: self.teams_claim.clone(),
                photo: self.photo_claim.clone(),
            },
            leeway: self.leeway,
            jwks_min_refresh: self.jwks_min_refresh,
        })
    }
}

impl ServeArgs {
    fn presence(&self) -> PresenceConfig {
        PresenceConfig {
            session_ttl: self.session_ttl,
            reconnect_grace: self.reconnect_grace,
            replay_capacity: self.replay_buffer,
            replay_bytes: self.replay_bytes,
            max_sessions_per_site: self.max_sessions_per_site,
            max_sessions_per_user: self.max_sessions_per_user,
        }
    }

    fn options(&self) -> ServeOptions {
        let open_files = connections::raise_open_file_limit();
        let max_total = self
            .max_connections
            .unwrap_or_else(|| open_files.map_or(10_000, ConnectionLimits::automatic_total));
        ServeOptions {
            allow_origins: self.allow_origin.clone(),
            sign_in_returns: self.sign_in_return.clone(),
            ticket_lifetime: self.ticket_lifetime,
            connections: ConnectionLimits {
                max_total,
                max_per_address: self.max_connections_per_ip,
                header_timeout: self.header_timeout,
                idle_timeout: self.idle_timeout,
            },
            rates: Rates {
                sessions: self.rate_sessions,
                saves: self.rate_saves,
                tickets: self.rate_tickets,
            },
            oidc: self.oidc.settings(),
            max_verified_tokens: self.oidc.max_verified_tokens,
            page_limits: PageLimits {
                per_user: self.max_pages_per_user,
                per_site: self.max_pages_per_site,
            },
        }
    }

    async fn open_presence(&self) -> Result<Arc<dyn Presence>> {
        Ok(match &self.redis {
            Some(url) => RedisPresence::connect(url, self.presence())
                .await
                .with_context(|| format!("cannot use Redis at {url}"))?,
            None => MemoryPresence::start(self.presence()),
        })
    }
}

/// Origins are compared exactly by CORS: each must be `scheme://host[:port]`. A wildcard would
/// let any web page a member visits use their credentials' answers, so it is refused.
fn check_origins(origins: &[String]) -> Result<()> {
    for origin in origins {
        if origin.trim() == "*" {
            anyhow::bail!(
                "--allow-origin '*' is refused: name each origin that may call the API \
                 (for example --allow-origin https://studio.contoso.example)"
            );
        }
        let parsed = url::Url::parse(origin)
            .ok()
            .filter(|u| u.has_host() && u.origin().ascii_serialization() == *origin);
        if parsed.is_none() {
            anyhow::bail!(
                "--allow-origin {origin:?} is not an origin: give scheme://host[:port], \
                 with no path or trailing slash"
            );
        }
    }
    Ok(())
}

async fn serve(args: &ServeArgs, store: Store, presence: Arc<dyn Presence>) -> Result<()> {
    check_origins(&args.allow_origin)?;
    SignInReturns::new(&args.allow_origin, &args.sign_in_return).map_err(anyhow::Error::msg)?;
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

fn print_prune(report: &PruneReport, dry_run: bool) {
    let verb = if dry_run { "would remove" } else { "removed" };
    for (site, email) in &report.members {
        println!("{verb} member {email} of site {site}");
    }
    for (site, path) in &report.pages {
        println!("{verb} page {path} of site {site}");
    }
    for email in &report.users {
        println!("{verb} user {email} (with their tokens and memberships)");
    }
    if report.is_empty() {
        println!("nothing to remove: the store lists nothing the file does not");
    } else if dry_run {
        println!("dry run: nothing was changed");
    }
}

fn rfc3339(ms: i64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64),
    )
    .to_string()
}

async fn token(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Issue {
            store,
            email,
            expires,
        } => {
            let store = store.open().await?;
            let now = now_ms();
            let expires_at = expires.map(|after| now.saturating_add(after.as_millis() as i64));
            let token = store.issue_token(&email, now, expires_at).await?;
            match expires_at {
                Some(at) => eprintln!(
                    "token for {email}, until {} (shown once; only its hash is stored):",
                    rfc3339(at)
                ),
                None => eprintln!("token for {email} (shown once; only its hash is stored):"),
            }
            println!("{token}");
        }
        TokenCommand::List { store, email } => {
            let store = store.open().await?;
            let tokens = store.tokens(email.as_deref()).await?;
            if tokens.is_empty() {
                println!("no tokens");
            }
            for token in tokens {
                let until = token.expires_at.map_or("no expiry".to_owned(), |at| {
                    format!("until {}", rfc3339(at))
                });
                println!(
                    "{}  {}  {until}  {} <{}>",
                    token.id,
                    rfc3339(token.created_at),
                    token.name,
                    token.email
                );
            }
        }
        TokenCommand::Revoke { store, email, id } => {
            let store = store.open().await?;
            match (email, id) {
                (Some(email), _) => {
                    let revoked = store.revoke_tokens_of(&email, now_ms()).await?;
                    println!("revoked {revoked} token(s) of {email}");
                }
                (None, Some(id)) => {
                    let email = store.revoke_token(&id, now_ms()).await?;
                    println!("revoked token {id} of {email}");
                }
                (None, None) => anyhow::bail!("give --email E or --id ID"),
            }
        }
    }
    Ok(())
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
            let store = args.store.open().await?;
            let presence = args.open_presence().await?;
            serve(&args, store, presence).await
        }
        Command::Import {
            store,
            file,
            prune,
            dry_run,
            max_pages_per_site,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let org = Organisation::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = store.open().await?;
            if prune {
                let report = store
                    .import_pruning(&org, max_pages_per_site, dry_run, now_ms())
                    .await?;
                print_prune(&report, dry_run);
            } else {
                store.import(&org, max_pages_per_site).await?;
            }
            if !dry_run {
                println!(
                    "imported {} users and {} sites from {}",
                    org.users.len(),
                    org.sites.len(),
                    file.display()
                );
            }
            Ok(())
        }
        Command::Token { command } => token(command).await,
        Command::Demo {
            serve: args,
            makers,
        } => {
            let Some(data) = args.store.data.clone() else {
                anyhow::bail!("the demo keeps its token in --data DIR");
            };
            let store = args.store.open().await?;
            let token = demo::prepare(&store, &data).await?;
            let presence = args.open_presence().await?;
            eprintln!(
                "demo: signed in as {} with the token in {}",
                demo::YOU,
                data.join(demo::TOKEN_FILE).display()
            );
            println!("COPRESENCE_TOKEN={token}");
            tokio::spawn(demo::run_makers(store.clone(), presence.clone(), makers));
            serve(&args, store, presence).await
        }
    }
}
