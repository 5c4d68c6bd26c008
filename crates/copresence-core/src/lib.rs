//! The Copresence core: what the presence service, the client library, the CLI and the tray app
//! must agree on, written once and free of I/O so every rule can be tested in isolation.
//!
//! - [`protocol`]: the wire types (requests, responses, events, the error body) and the limits on
//!   what a caller may send.
//! - [`roster`]: a site's live state (users → sessions → page) and the one place where join, move
//!   and leave are derived from session changes — the server derives, clients apply.
//! - [`pages`]: the page tree built from paths, the roll-up that shows who is under a
//!   collapsed parent page, and how a page added by an editor joins a site's pages.
//! - [`lifetime`]: how long a session lives: TTL, streams that hold it, the reconnect grace.
//! - [`toolbar`]: who appears in a site's avatar toolbar and how many hide behind "+N".
//! - [`links`]: Teams chat and `mailto:` links with every value percent-encoded.
//! - [`photo`]: where a profile photo may come from, and which bytes are a picture;
//!   [`address`]: plain `http://` only to this machine.
//! - [`editors`]: the web editors a site describes by URL patterns: which page a tab's address
//!   is on, and where "Open" on someone's card goes.
//! - [`membership`]: a site's members by e-mail, domain or directory group, and who matches.
//! - [`error_code`]: the codes of the service's error answers, which it emits and clients match.
//! - [`notify`]: who to notify about what: never yourself, only followed sites, bursts
//!   coalesced, nothing while paused or in quiet hours.
//! - `fixtures` (tests only, and the `fixtures` feature): the users, sessions, sites and saves
//!   every crate's tests are built from.
//!
//! Times are milliseconds since the Unix epoch, passed in by the caller: the core never reads a
//! clock.

pub mod address;
pub mod editors;
pub mod error_code;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod lifetime;
pub mod links;
pub mod membership;
pub mod notify;
pub mod pages;
pub mod photo;
pub mod protocol;
pub mod roster;
pub mod toolbar;

pub use error_code::ErrorCode;
pub use protocol::*;
pub use roster::SiteState;
