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
//! - [`secret`]: how tokens and tickets are made and hashed.
//! - [`demo`]: a demo organisation with simulated makers, so a newcomer sees a living system.

pub mod clock;
pub mod demo;
pub mod error;
pub mod http;
pub mod org;
pub mod presence;
pub mod readcache;
pub mod secret;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use presence::Presence;
use store::Store;

/// How a node serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Origins allowed to call the API from a browser (CORS).
    pub allow_origins: Vec<String>,
    /// How long a ticket for a browser's `EventSource` stays valid.
    pub ticket_lifetime: Duration,
}

/// A bound, not yet serving node: lets the caller learn the address (port 0 picks one) first.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: axum::Router,
}

impl Server {
    pub async fn bind(
        listen: &str,
        store: Store,
        presence: Arc<dyn Presence>,
        options: &ServeOptions,
    ) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let state = http::AppState {
            store,
            presence,
            ticket_lifetime_ms: options.ticket_lifetime.as_millis() as i64,
        };
        let app = http::router(state, &options.allow_origins);
        Ok(Server { listener, app })
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
    pub async fn run(self) -> std::io::Result<()> {
        let Server { listener, app } = self;
        loop {
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(error) => {
                    // Out of descriptors, say: wait for some to close rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // Events are small and must not wait for the previous one's acknowledgement.
            let _ = socket.set_nodelay(true);
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service);
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }
    }
}
