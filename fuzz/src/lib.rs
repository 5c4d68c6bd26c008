//! What the fuzz targets share: one real node in this process, and the rule every answer of it
//! must keep.
//!
//! The node is the service's own router over an embedded SQLite store and the in-memory
//! presence, built once per fuzzing process (a store per input would spend every run on
//! migrations). Inputs go through the same router a connection is served by, so a refusal is
//! whatever a stranger on the network would get. Rates are raised far above the defaults: a
//! fuzzer is one very busy user, and a wall of 429s would hide the handlers behind the limiter.

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use copresence_server::auth::claims::ClaimNames;
use copresence_server::auth::oidc::{IssuerConfig, OidcSettings, OidcVerifier};
use copresence_server::auth::Authenticator;
use copresence_server::http::redirect::SignInReturns;
use copresence_server::http::{self, AppState};
use copresence_server::org::Organisation;
use copresence_server::presence::memory::MemoryPresence;
use copresence_server::presence::{Presence, PresenceConfig};
use copresence_server::ratelimit::{Rate, RateLimits, Rates};
use copresence_server::revocation::Revocations;
use copresence_server::store::{PageLimits, Store, DEFAULT_MAX_PAGES_PER_SITE};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The organisation every target's node starts with: two members of `contoso`, a stranger to
/// it, and names that are not plain text. It is also a seed of the `org_file` target.
pub const ORGANISATION: &str = include_str!("../seeds/org_file/fuzz-node.toml");

/// One node, and the credentials of its users.
pub struct Node {
    pub runtime: tokio::runtime::Runtime,
    pub store: Store,
    pub presence: Arc<MemoryPresence>,
    pub router: axum::Router,
    /// Ann's operator token: a member of `contoso`.
    pub ann: String,
    /// Eve's: a member of `private` only.
    pub eve: String,
    _data: tempfile::TempDir,
}

fn generous(requests: u32) -> Rate {
    Rate {
        requests: NonZeroU32::new(requests).expect("not zero"),
        per: Duration::from_secs(1),
    }
}

impl Node {
    /// The process's node, started on first use.
    pub fn get() -> &'static Node {
        static NODE: OnceLock<Node> = OnceLock::new();
        NODE.get_or_init(Node::start)
    }

    fn start() -> Node {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let data = tempfile::tempdir().expect("a temporary directory");
        let (store, presence, router, ann, eve) = runtime.block_on(async {
            let store = Store::open_dir(data.path(), 8 << 20).await.expect("store");
            let org = Organisation::parse(ORGANISATION).expect("the organisation parses");
            store
                .import(&org, DEFAULT_MAX_PAGES_PER_SITE)
                .await
                .expect("the organisation imports");
            let ann = store
                .issue_token("ann@contoso.test", 0, None)
                .await
                .expect("token");
            let eve = store
                .issue_token("eve@elsewhere.test", 0, None)
                .await
                .expect("token");
            let presence = MemoryPresence::start(PresenceConfig {
                session_ttl: Duration::from_secs(45),
                reconnect_grace: Duration::from_secs(5),
                replay_capacity: 256,
                replay_bytes: 1 << 20,
                max_sessions_per_site: 32,
                max_sessions_per_user: 256,
            });
            let shared: Arc<dyn Presence> = presence.clone();
            // JWT-shaped tokens go through the OpenID Connect checks up to the issuer's keys,
            // which nothing serves here: every one of them is refused, as a forged one must be.
            let oidc = OidcVerifier::new(OidcSettings {
                issuers: vec![IssuerConfig {
                    issuer: "http://127.0.0.1:9".into(),
                    audience: "api://copresence".into(),
                    client_id: None,
                    scopes: Vec::new(),
                }],
                claims: ClaimNames::default(),
                leeway: Duration::from_secs(60),
                jwks_min_refresh: Duration::from_secs(3600),
            })
            .expect("the fuzz node's sign-in settings");
            let state = AppState {
                auth: Authenticator::new(store.clone(), Some(oidc), 1_000),
                revocations: Revocations::start(store.clone(), shared.clone()),
                store: store.clone(),
                presence: shared,
                ticket_lifetime_ms: 300_000,
                rates: RateLimits::new(Rates {
                    sessions: generous(1_000_000),
                    saves: generous(1_000_000),
                    tickets: generous(1_000_000),
                }),
                page_limits: PageLimits {
                    per_user: 200,
                    per_site: 5_000,
                },
                sign_in_returns: Arc::new(
                    SignInReturns::new(&[], &[]).expect("no return prefixes hold"),
                ),
            };
            let router = http::router(state, &[]);
            (store, presence, router, ann, eve)
        });
        Node {
            runtime,
            store,
            presence,
            router,
            ann,
            eve,
            _data: data,
        }
    }

    /// Serve one request. An event stream's body is not read (it does not end); any other
    /// body is read whole.
    pub fn serve(&self, request: Request<Body>) -> Answer {
        self.runtime.block_on(async {
            let response: Response<Body> = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            Answer::read(response).await
        })
    }
}

/// A response as a client sees it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    /// Empty for an event stream.
    pub body: Vec<u8>,
}

impl Answer {
    async fn read(response: Response<Body>) -> Answer {
        let status = response.status();
        let content_type = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = if content_type.starts_with("text/event-stream") {
            Vec::new()
        } else {
            response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default()
        };
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// What every answer to anything a stranger sends must be: never a 5xx (a bug, or a store
    /// that is right here and up), and every refusal a JSON error with a code and a message.
    pub fn assert_clear(&self, request: &str) {
        assert!(
            !self.status.is_server_error(),
            "{request} → {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        if self.status.is_client_error() {
            let error: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!(
                    "{request} → {} with a body that is not JSON ({e}): {:?}",
                    self.status,
                    String::from_utf8_lossy(&self.body)
                )
            });
            let code = error["error"]["code"].as_str().unwrap_or_default();
            let message = error["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !code.is_empty() && !message.is_empty(),
                "{request} → {} without a code and a message: {error}",
                self.status
            );
        }
    }
}
