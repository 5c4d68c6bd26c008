//! Wire types of the Copresence HTTP + SSE protocol (see `docs/protocol.md`).
//!
//! Every type here is what goes over the wire, so field names are part of the protocol: change
//! them only together with the document.

use serde::{Deserialize, Serialize};

use crate::editors::Editor;
use crate::roster::SiteState;

/// A user's numeric id, stable for the life of the organisation.
pub type UserId = i64;

/// Largest request body the service accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest session id a client may choose.
pub const MAX_SESSION_ID_LEN: usize = 128;
/// Longest client name (`studio`, `vscode-web`, `cli`, …).
pub const MAX_CLIENT_LEN: usize = 64;
/// Longest page path.
pub const MAX_PAGE_LEN: usize = 1024;
/// Longest page title, in characters: a title names a page in a tree row and a notification.
pub const MAX_PAGE_TITLE_LEN: usize = 200;
/// Longest site id.
pub const MAX_SITE_ID_LEN: usize = 64;
/// Most `site=` filters one event stream may carry (repeats count once).
pub const MAX_STREAM_SITES: usize = 100;

/// Who someone is: what a user card shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCard {
    pub id: UserId,
    pub name: String,
    pub email: String,
    /// Microsoft Teams user principal name, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<String>,
    /// Where their profile photo is ([`crate::photo::check_photo_url`]), when they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
}

impl UserCard {
    /// Whether a Teams chat can be opened with this user: the rule of
    /// [`teams_chat`](crate::links::teams_chat), so a card never offers a chat that cannot open.
    pub fn has_teams(&self) -> bool {
        crate::links::teams_chat(self.teams.as_deref(), None).is_ok()
    }
}

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserCard,
}

/// `GET /v1/auth` (no credentials needed): how to sign in to this service, so a client needs
/// only its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthInfo {
    /// OpenID Connect providers whose access tokens the service takes; empty when people sign
    /// in with operator tokens only.
    pub providers: Vec<SignInProvider>,
    /// Operator tokens (`copresence-server token issue`) are taken too.
    pub operator_tokens: bool,
}

/// What an OpenID Connect provider's discovery document (`/.well-known/openid-configuration`)
/// says: the parts the service and its clients read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    #[serde(flatten)]
    pub endpoints: ProviderEndpoints,
}

/// A provider's endpoints, as its discovery document names them: read from it by
/// [`ProviderMetadata`], and passed on to clients, under the same names, by [`SignInProvider`].
/// Each is absent when the provider has none (or, in `GET /v1/auth`, when the service could not
/// read its discovery document).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEndpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// Present when the provider offers the device authorization grant (RFC 8628).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}

/// One OpenID Connect provider, with what a public client needs to sign in with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInProvider {
    pub issuer: String,
    /// The public client to sign in as (Authorization Code with PKCE, or device authorization).
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    /// Ask for tokens for this resource (RFC 8707), so their `aud` is this service.
    pub audience: String,
    /// From the provider's discovery document, when the service could read it.
    #[serde(flatten)]
    pub endpoints: ProviderEndpoints,
}

impl SignInProvider {
    /// Whether a client asks for tokens for the audience with an RFC 8707 `resource` parameter
    /// (in the authorization request, the device authorization request and every token request).
    ///
    /// Not where a scope already names the audience: Entra ID picks a token's audience from the
    /// scope (`api://APPID/access_as_user` for the audience `api://APPID`) and refuses a
    /// `resource` beside it. Not where the audience is the client itself (Google): there the ID
    /// token is the bearer ([`SignInProvider::bearer_is_id_token`]), and no provider issues it
    /// for a resource. Everywhere else (Keycloak, Okta, any RFC 8707 provider) `resource` is what
    /// makes the access token's `aud` this service, which the service requires.
    ///
    /// The Rust client and the TypeScript one decide alike, held to
    /// `protocol/golden/sign-in.json`.
    pub fn sends_resource(&self) -> bool {
        let audience = self.audience.as_str();
        self.client_id.as_deref() != Some(audience)
            && !self.scopes.iter().any(|scope| scope.contains(audience))
    }

    /// Whether the bearer a client sends the service is the ID token rather than the access
    /// token: where the audience is the client itself. Google's access tokens are not JWTs the
    /// service can verify, but its ID tokens are, and their `aud` is the client id, so the
    /// operator gives that id as the audience too. Elsewhere the access token is the bearer: an
    /// ID token is for the client, not for an API.
    ///
    /// Held to `protocol/golden/sign-in.json`, as [`SignInProvider::sends_resource`].
    pub fn bearer_is_id_token(&self) -> bool {
        self.client_id.as_deref() == Some(self.audience.as_str())
    }
}

/// A site as listed and as named in events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The web editors its makers use, by which a tab's address is a page of the site
    /// ([`crate::editors`]). Left out when the site describes none, and absent from a service
    /// older than editors: either way, read as none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub editors: Vec<Editor>,
}

/// A page of a site. The parent is derived from the path: the longest other page path that is a
/// proper prefix of it at a `/` boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub path: String,
    pub title: String,
}

/// One open editor (tab, window, CLI) of a user on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub page: String,
    pub client: String,
    /// When this session joined the site.
    pub since: i64,
    /// When this session last changed page (equal to `since` until it moves).
    pub page_since: i64,
    /// The address of the web editor's tab the session is in, when one of the site's editors
    /// maps it to `page` ([`crate::editors::Editor::page_of`]): where "Open" goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A user present on a site, with every session they have open there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserCard,
    pub sessions: Vec<SessionInfo>,
}

impl Member {
    /// When the user arrived: their oldest session.
    pub fn since(&self) -> i64 {
        self.sessions.iter().map(|s| s.since).min().unwrap_or(0)
    }

    /// The session that moved most recently: the page to name when someone asks where the user is.
    pub fn latest_session(&self) -> Option<&SessionInfo> {
        self.sessions.iter().max_by_key(|s| (s.page_since, s.since))
    }
}

/// One save in a site's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveRecord {
    /// The site version this save created.
    pub version: i64,
    pub page: String,
    pub user: UserCard,
    pub at: i64,
    /// True when the save overwrote a newer version than the saver had (`force`).
    pub forced: bool,
}

/// `GET /v1/sites`: one entry per site the caller is a member of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub site: SiteInfo,
    pub version: i64,
    /// Everyone online on the site now.
    pub online: Vec<Member>,
}

/// `PUT /v1/sites/{site}/sessions/{session}`: join, heartbeat or move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutSession {
    pub page: String,
    #[serde(default = "default_client")]
    pub client: String,
    /// The page's title, for a page the site does not have yet: a site that takes pages from
    /// its editors adds it with this title. Ignored for a page the site has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The address of the web editor's tab, kept with the session when one of the site's
    /// editors maps it to `page`, refused (`invalid_url`) otherwise. None clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn default_client() -> String {
    "unknown".to_owned()
}

/// The answer to a session `PUT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub session: SessionInfo,
    /// How long the session lives without another heartbeat, in milliseconds.
    pub ttl_ms: u64,
    /// How often the service expects a heartbeat, in milliseconds.
    pub heartbeat_ms: u64,
}

/// `POST /v1/sites/{site}/saves`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveRequest {
    pub page: String,
    pub base_version: i64,
    #[serde(default)]
    pub force: bool,
}

/// The body of `POST /v1/tickets`: the sites the ticket is for (none: every site the caller is
/// a member of when asking).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    #[serde(default)]
    pub sites: Vec<String>,
}

/// The last message of an event stream that the service ends itself, as SSE `event: end` with
/// no `id:`: reconnect with a credential that holds (a fresh ticket) and the last event id seen,
/// and nothing is missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEnd {
    pub reason: StreamEndReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEndReason {
    /// The ticket (or token) the stream was opened with has expired.
    CredentialExpired,
    /// Access was taken away: a token revoked, or a site left. A reconnect shows what is left
    /// (or is refused).
    AccessChanged,
}

/// `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub ticket: String,
    pub expires_at: i64,
}

/// The body of every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-matched: clients branch on this, never on the message.
    pub code: crate::ErrorCode,
    /// For people.
    pub message: String,
    /// On `stale_version`: the site's current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// On `stale_version`: who saved last, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_save: Option<SaveRecord>,
}

/// Why a user left a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// Their last session was closed explicitly.
    Left,
    /// Their last session stopped heartbeating, or its stream dropped and did not come back
    /// within the grace.
    Expired,
}

/// Every event of `GET /v1/events`. The SSE `event:` field carries the same name as `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The full state of every requested site; replaces whatever the client held.
    Snapshot { sites: Vec<SiteState> },
    /// A user's first session on a site.
    Join {
        site: String,
        member: Member,
        at: i64,
    },
    /// A session changed page, or a present user opened (`from: null`) or closed (`to: null`)
    /// another session. `member` is the user's whole state after the change.
    Move {
        site: String,
        member: Member,
        session: String,
        from: Option<String>,
        to: Option<String>,
        at: i64,
    },
    /// A user's last session on a site ended.
    Leave {
        site: String,
        user: UserCard,
        reason: LeaveReason,
        at: i64,
    },
    /// Someone saved the site: its version moved on.
    Saved { site: String, save: SaveRecord },
    /// Pages were added to the site's page tree (an editor opened a page the site did not have
    /// yet). Applied as "add each page whose path is not there", so it leaves the same tree
    /// however often and in whatever order it arrives ([`crate::pages::add_page`]).
    Pages {
        site: String,
        added: Vec<Page>,
        at: i64,
    },
}

/// The SSE event names of `GET /v1/events`, as [`Event::name`] gives them: a client ignores any
/// other name, for forward compatibility.
pub const EVENT_NAMES: [&str; 6] = ["snapshot", "join", "move", "leave", "saved", "pages"];

impl Event {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Snapshot { .. } => "snapshot",
            Event::Join { .. } => "join",
            Event::Move { .. } => "move",
            Event::Leave { .. } => "leave",
            Event::Saved { .. } => "saved",
            Event::Pages { .. } => "pages",
        }
    }

    /// The site a delta is about (`None` for a snapshot).
    pub fn site(&self) -> Option<&str> {
        match self {
            Event::Snapshot { .. } => None,
            Event::Join { site, .. }
            | Event::Move { site, .. }
            | Event::Leave { site, .. }
            | Event::Saved { site, .. }
            | Event::Pages { site, .. } => Some(site),
        }
    }
}

/// Why a caller-chosen identifier or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("session id must be 1 to {MAX_SESSION_ID_LEN} characters of letters, digits, '-', '_' or '.'")]
    SessionId,
    #[error("client name must be 1 to {MAX_CLIENT_LEN} printable characters")]
    Client,
    #[error("page path must start with '/' and be at most {MAX_PAGE_LEN} characters")]
    PagePath,
    #[error("site id must be 1 to {MAX_SITE_ID_LEN} characters of lowercase letters, digits, '-' or '_'")]
    SiteId,
    #[error("page title must be at most {MAX_PAGE_TITLE_LEN} characters, none of them control characters")]
    PageTitle,
}

/// A session id is chosen by the client and appears in URLs and logs: keep it to a safe alphabet.
pub fn validate_session_id(id: &str) -> Result<(), InvalidInput> {
    // "." and ".." are path-segment dots: URLs normalise them away.
    let ok = !matches!(id, "" | "." | "..")
        && id.len() <= MAX_SESSION_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(()).ok_or(InvalidInput::SessionId)
}

/// A client name is shown on user cards: any printable text, short.
pub fn validate_client(client: &str) -> Result<(), InvalidInput> {
    let ok = !client.trim().is_empty()
        && client.chars().count() <= MAX_CLIENT_LEN
        && !client.chars().any(char::is_control);
    ok.then_some(()).ok_or(InvalidInput::Client)
}

/// Page paths are absolute, short and free of control characters.
pub fn validate_page_path(path: &str) -> Result<(), InvalidInput> {
    let ok =
        path.starts_with('/') && path.len() <= MAX_PAGE_LEN && !path.chars().any(char::is_control);
    ok.then_some(()).ok_or(InvalidInput::PagePath)
}

/// A page title is shown as text wherever the page is named: short, on one line. Empty is
/// allowed: the page is then named by its path ([`crate::pages::title_of`]).
pub fn validate_page_title(title: &str) -> Result<(), InvalidInput> {
    let ok = title.chars().count() <= MAX_PAGE_TITLE_LEN && !title.chars().any(char::is_control);
    ok.then_some(()).ok_or(InvalidInput::PageTitle)
}

/// Site ids are slugs: they appear in URLs and in `?site=` filters.
pub fn validate_site_id(id: &str) -> Result<(), InvalidInput> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SITE_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    ok.then_some(()).ok_or(InvalidInput::SiteId)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, save};

    #[test]
    fn session_ids_keep_to_a_safe_alphabet() {
        assert!(validate_session_id("tab-1.a_B").is_ok());
        assert!(validate_session_id("").is_err());
        assert!(validate_session_id("..").is_err());
        assert!(validate_session_id("a/b").is_err());
        assert!(validate_session_id(&"x".repeat(MAX_SESSION_ID_LEN + 1)).is_err());
    }

    #[test]
    fn client_names_are_short_printable_text() {
        assert!(validate_client("vscode-web").is_ok());
        assert!(validate_client("Design Studio ✓").is_ok());
        assert!(validate_client(" ").is_err());
        assert!(validate_client("a\nb").is_err());
        assert!(validate_client(&"c".repeat(MAX_CLIENT_LEN + 1)).is_err());
    }

    #[test]
    fn page_titles_are_short_and_on_one_line() {
        assert!(validate_page_title("").is_ok());
        assert!(validate_page_title("Compare plans — 2027 ✓").is_ok());
        assert!(validate_page_title(&"é".repeat(MAX_PAGE_TITLE_LEN)).is_ok());
        assert!(validate_page_title(&"é".repeat(MAX_PAGE_TITLE_LEN + 1)).is_err());
        assert!(validate_page_title("two\nlines").is_err());
        assert!(validate_page_title("bell\u{7}").is_err());
    }

    #[test]
    fn a_put_without_a_title_reads_and_writes_as_before() {
        let put: PutSession = serde_json::from_str(r#"{"page": "/"}"#).unwrap();
        assert_eq!((put.client.as_str(), put.title), ("unknown", None));
        let json = serde_json::to_value(PutSession {
            page: "/".into(),
            client: "cli".into(),
            title: None,
            url: None,
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({"page": "/", "client": "cli"}));
    }

    #[test]
    fn every_event_name_is_listed() {
        let pages = Event::Pages {
            site: "s".into(),
            added: vec![],
            at: 0,
        };
        assert!(EVENT_NAMES.contains(&pages.name()));
        let json = serde_json::to_value(&pages).unwrap();
        assert_eq!(json["type"], "pages");
    }

    #[test]
    fn events_carry_their_type_on_the_wire() {
        let event = Event::Saved {
            site: "contoso".into(),
            save: save(3, "/", card(1, "Ann")),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "saved");
        assert_eq!(event.name(), "saved");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn providers_keep_their_wire_form_to_the_byte() {
        // GET /v1/auth: the fields in this order, absent endpoints left out, no client id null.
        let full = r#"{"issuer":"https://idp.example","client_id":"copresence","scopes":["openid"],"audience":"api://copresence","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","device_authorization_endpoint":"https://idp.example/d","revocation_endpoint":"https://idp.example/r","end_session_endpoint":"https://idp.example/e"}"#;
        let bare = r#"{"issuer":"https://idp.example","client_id":null,"scopes":[],"audience":"api://copresence","token_endpoint":"https://idp.example/t"}"#;
        for wire in [full, bare] {
            let provider: SignInProvider = serde_json::from_str(wire).unwrap();
            assert_eq!(serde_json::to_string(&provider).unwrap(), wire);
        }
        let provider: SignInProvider = serde_json::from_str(full).unwrap();
        assert_eq!(
            provider.endpoints.device_authorization_endpoint.as_deref(),
            Some("https://idp.example/d")
        );
        // A discovery document: what is not read is left, null is absent.
        let discovery = r#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/k","token_endpoint":"https://idp.example/t","revocation_endpoint":null,"grant_types_supported":["authorization_code"]}"#;
        let metadata: ProviderMetadata = serde_json::from_str(discovery).unwrap();
        assert_eq!(
            metadata.endpoints.token_endpoint.as_deref(),
            Some("https://idp.example/t")
        );
        assert_eq!(metadata.endpoints.revocation_endpoint, None);
        assert_eq!(
            serde_json::to_string(&metadata).unwrap(),
            r#"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/k","token_endpoint":"https://idp.example/t"}"#
        );
        assert!(serde_json::from_str::<ProviderMetadata>(r#"{"issuer":"x"}"#).is_err());
    }
}
