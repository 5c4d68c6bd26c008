//! The Copresence presence service.
//!
//! Makers' editors publish where they are (`PUT …/sessions/…`); the service keeps who is where,
//! expires what stops heartbeating, records saves, and fans every change out to subscribers over
//! Server-Sent Events.
//!
//! - [`http`]: the API, one file per resource; every refusal is a JSON error ([`error`]).
//! - [`presence`]: live presence and the ordered event feed, behind the [`presence::Presence`]
//!   trait; [`presence::memory`] is the embedded, single-process default.
//! - [`store`]: durable data (users, sites, pages, memberships, credential hashes, save
//!   history) through portable SQL; [`org`] is the organisation file `import` reads.
//! - [`auth`]: who a bearer token signs in — an access token from the organisation's OpenID
//!   Connect provider (verified here; the person made known on first sign-in), or an operator
//!   token.
//! - [`secret`]: how tokens and tickets are made and hashed.
//! - [`demo`]: a demo organisation with simulated makers, so a newcomer sees a living system.

pub mod auth;
pub mod clock;
pub mod connections;
pub mod demo;
pub mod error;
pub mod http;
pub mod org;
pub mod presence;
pub mod ratelimit;
pub mod readcache;
pub mod revocation;
pub mod secret;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use connections::{accept_backoff, refusal_response, ConnectionLimits, Gate, Watched};
use presence::Presence;
use store::Store;

/// How a node serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Origins allowed to call the API from a browser (CORS); `GET /v1/auth/redirect` returns
    /// to addresses under them too.
    pub allow_origins: Vec<String>,
    /// Further prefixes of the addresses `GET /v1/auth/redirect` returns to (`vscode://…/`).
    pub sign_in_returns: Vec<String>,
    /// How long a ticket for a browser's `EventSource` stays valid.
    pub ticket_lifetime: Duration,
    /// How many connections, from whom, and for how long.
    pub connections: ConnectionLimits,
    /// How often one user may change sessions, save and take tickets.
    pub rates: ratelimit::Rates,
    /// Sign-in with the organisation's OpenID Connect provider, when configured.
    pub oidc: Option<auth::oidc::OidcSettings>,
    /// How many verified access tokens are kept in memory at most.
    pub max_verified_tokens: usize,
    /// How many pages a site's editors may add by opening them.
    pub page_limits: store::PageLimits,
}

/// A bound, not yet serving node: lets the caller learn the address (port 0 picks one) first.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: axum::Router,
    gate: Arc<Gate>,
}

impl Server {
    pub async fn bind(
        listen: &str,
        store: Store,
        presence: Arc<dyn Presence>,
        options: &ServeOptions,
    ) -> std::io::Result<Server> {
        let sign_in_returns =
            http::redirect::SignInReturns::new(&options.allow_origins, &options.sign_in_returns)
                .map_err(std::io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let oidc = match &options.oidc {
            Some(settings) => Some(
                auth::oidc::OidcVerifier::new(settings.clone()).map_err(std::io::Error::other)?,
            ),
            None => None,
        };
        let auth = auth::Authenticator::new(store.clone(), oidc, options.max_verified_tokens);
        let warming = auth.clone();
        tokio::spawn(async move {
            if let Some(verifier) = warming.oidc() {
                verifier.keep_keys_current().await;
            }
        });
        let revocations = revocation::Revocations::start(store.clone(), presence.clone());
        let mut news = revocations.subscribe();
        let forgetting = auth.clone();
        tokio::spawn(async move {
            loop {
                match news.recv().await {
                    Ok(users) => forgetting.forget_users(&users),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        forgetting.forget_all();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        let state = http::AppState {
            auth,
            revocations,
            store,
            presence,
            ticket_lifetime_ms: options.ticket_lifetime.as_millis() as i64,
            rates: ratelimit::RateLimits::new(options.rates),
            page_limits: options.page_limits,
            sign_in_returns: Arc::new(sign_in_returns),
        };
        let app = http::router(state, &options.allow_origins);
        Ok(Server {
            listener,
            app,
            gate: Gate::new(options.connections),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until the process ends.
    ///
    /// Each connection gets HTTP/1.1 from hyper directly, sharing the one router (cloning it is
    /// a reference count). `axum::serve` rebuilds the router's routes for every connection and
    /// serves through hyper-util's protocol-detecting builder: for an idle event stream, that
    /// was more than half of its memory (27 KB a connection against 12 KB here).
    ///
    /// Every connection passes the [`Gate`] first, and is served under the header-read and idle
    /// timeouts ([`connections`]).
    pub async fn run(self) -> std::io::Result<()> {
        let Server {
            listener,
            app,
            gate,
        } = self;
        let limits = gate.limits();
        let mut failures = 0u32;
        loop {
            let (socket, peer) = match listener.accept().await {
                Ok(accepted) => {
                    failures = 0;
                    accepted
                }
                Err(error) => {
                    // Out of descriptors, say: wait for some to close rather than spin.
                    if failures == 0 {
                        tracing::warn!(%error, "cannot accept a connection");
                    }
                    tokio::time::sleep(accept_backoff(failures)).await;
                    failures = failures.saturating_add(1);
                    continue;
                }
            };
            let admitted = match gate.admit(peer.ip()) {
                Ok(admitted) => admitted,
                Err(refusal) => {
                    tracing::debug!(%peer, ?refusal, "connection refused");
                    // The send buffer of a new socket is empty: this never waits. Whatever the
                    // peer sent is not read; the socket closes on drop.
                    let _ = socket.try_write(&refusal_response(refusal));
                    continue;
                }
            };
            // Events are small and must not wait for the previous one's acknowledgement.
            let _ = socket.set_nodelay(true);
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _admitted = admitted;
                let (socket, activity) = Watched::new(socket);
                let connection = hyper::server::conn::http1::Builder::new()
                    // Without a timer, hyper silently skips its header-read timeout.
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    // Request heads beyond this are refused (431) rather than buffered.
                    .max_buf_size(MAX_HEAD_BYTES)
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service);
                tokio::pin!(connection);
                loop {
                    let idle_at = activity.idle_at(limits.idle_timeout);
                    tokio::select! {
                        served = &mut connection => {
                            if let Err(error) = served {
                                tracing::debug!(%error, "connection ended with an error");
                            }
                            break;
                        }
                        _ = tokio::time::sleep_until(idle_at) => {
                            if activity.idle_at(limits.idle_timeout) <= tokio::time::Instant::now() {
                                tracing::debug!(%peer, "closing an idle connection");
                                break;
                            }
                        }
                    }
                }
            });
        }
    }
}

/// The most a request head (request line and headers) may take: hyper's read buffer, which it
/// answers with 431 when a head does not fit.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
