//! A typed async client for the Copresence service: the REST calls that publish presence and
//! saves, and a self-healing subscription to the live event stream.
//!
//! - [`client`]: [`Client`], one async method per endpoint (`me`, `sites`, `site`, `user`,
//!   `put_session`, `delete_session`, `save`, `ticket`) and [`Client::subscribe`].
//! - [`subscription`]: [`Subscription`], the `GET /v1/events` stream as [`Update`]s, reconnecting
//!   by itself with backoff and `Last-Event-ID` resume.
//! - [`live`]: [`LiveState`], every subscribed site's [`SiteState`] kept current from the
//!   updates.
//! - [`error`]: [`Error`], with a stable [`Error::code`] for UIs to match on.
//! - [`backoff`]: [`Backoff`], exponential with jitter, for reconnects and heartbeat retries.
//! - [`signin`]: signing in with the organisation's OpenID Connect provider (device code, or
//!   the browser with PKCE), and renewing the tokens; a [`TokenSource`] gives a client a
//!   token that is renewed as it expires.
//!
//! The wire types come from [`copresence_core`], re-exported here as [`core`].
//!
//! ```no_run
//! use copresence_client::{Client, LiveState, SubscribeOptions, Update};
//!
//! # async fn demo() -> Result<(), copresence_client::Error> {
//! let client = Client::new("https://copresence.example.com", "TOKEN")?;
//! let mut live = LiveState::new();
//! let mut subscription = client.subscribe(SubscribeOptions::sites(["contoso"]));
//! while let Some(update) = subscription.next().await {
//!     live.apply(&update);
//!     if let Update::Fatal(error) = update {
//!         return Err(error);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`SiteState`]: copresence_core::SiteState

pub mod backoff;
pub mod client;
pub mod error;
pub mod live;
pub mod signin;
pub mod subscription;

pub use backoff::Backoff;
pub use client::{cleartext_warning, Client, TokenSource};
pub use copresence_core as core;
pub use error::Error;
pub use live::LiveState;
pub use subscription::{SubscribeOptions, Subscription, Update};
