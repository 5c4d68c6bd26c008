//! The REST side of the protocol: one async method per endpoint.

use std::fmt;
use std::time::Duration;

use copresence_core::{
    AuthInfo, Me, PutSession, SaveRecord, SaveRequest, SessionState, SiteState, SiteSummary,
    Ticket, UserCard, UserId,
};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::Error;
use crate::subscription::{SubscribeOptions, Subscription};

/// How long establishing a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a REST call may take, from connecting to the end of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a connection may stay silent before it is taken for dead. The event stream sends a
/// keep-alive every 15 s, so three missed in a row mean the connection is gone (a laptop that
/// slept, a NAT that forgot us) even when no TCP error says so.
pub const READ_TIMEOUT: Duration = Duration::from_secs(45);

/// A client of one Copresence server, acting as one user (the token's).
///
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    base: Url,
    auth: Auth,
}

/// Where a client gets a bearer token that stays good: a sign-in with the organisation's
/// provider, renewed before it expires (the CLI's and the tray's kept sign-ins).
pub trait TokenSource: Send + Sync + 'static {
    /// A token good for now.
    fn token(&self) -> BoxFuture<'_, Result<String, Error>>;
}

/// A future a [`TokenSource`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The token every request carries: one given once, or one asked of a source each time.
#[derive(Clone)]
enum Auth {
    Fixed(HeaderValue),
    Renewed(std::sync::Arc<dyn TokenSource>),
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("Client")
            .field("server", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// A warning for a server reached over plain `http://` anywhere but this machine: its token and
/// everyone's presence would cross the network readable. `None` for `https://` and loopback.
pub fn cleartext_warning(server_url: &str) -> Option<String> {
    let url = Url::parse(server_url.trim()).ok()?;
    if url.scheme() != "http" || url.host().is_none() {
        return None;
    }
    (!copresence_core::address::is_loopback(&url)).then(|| {
        format!(
            "{} is reached over plain http://: your token and who is where cross the network \
             readable by anyone on the way; ask for an https:// address",
            url.host_str().unwrap_or_default()
        )
    })
}

impl Client {
    /// A client for the server at `server_url` (`https://copresence.example.com`, with or
    /// without a trailing slash, possibly under a path prefix), authenticating with `token`.
    pub fn new(server_url: &str, token: &str) -> Result<Client, Error> {
        Client::build(server_url, Auth::Fixed(bearer(token)?))
    }

    /// A client for the server at `server_url` whose requests (and every reconnect of its
    /// event stream) carry the token `source` gives at that moment.
    pub fn with_token_source(
        server_url: &str,
        source: std::sync::Arc<dyn TokenSource>,
    ) -> Result<Client, Error> {
        Client::build(server_url, Auth::Renewed(source))
    }

    /// The `Authorization` header for a request now.
    pub(crate) async fn authorization(&self) -> Result<HeaderValue, Error> {
        match &self.auth {
            Auth::Fixed(header) => Ok(header.clone()),
            Auth::Renewed(source) => bearer(&source.token().await?),
        }
    }

    fn build(server_url: &str, auth: Auth) -> Result<Client, Error> {
        let base = parse_base_url(server_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("copresence-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Transport)?;
        Ok(Client { http, base, auth })
    }

    /// The server's base URL, normalised (always ends with `/`).
    pub fn server_url(&self) -> &Url {
        &self.base
    }

    /// `GET /v1/auth`: how to sign in to this service (asked with no token).
    pub async fn auth_info(&self) -> Result<AuthInfo, Error> {
        let url = self.url(&["v1", "auth"])?;
        let response = self
            .http
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Transport)?;
        if !response.status().is_success() {
            return Err(Error::from_response(response).await);
        }
        let body = response.bytes().await.map_err(Error::Transport)?;
        serde_json::from_slice(&body).map_err(Error::Decode)
    }

    /// `GET /v1/me`: who the token belongs to.
    pub async fn me(&self) -> Result<Me, Error> {
        let url = self.url(&["v1", "me"])?;
        self.call(self.http.get(url)).await
    }

    /// `GET /v1/sites`: every site the caller is a member of, with who is online.
    pub async fn sites(&self) -> Result<Vec<SiteSummary>, Error> {
        let url = self.url(&["v1", "sites"])?;
        self.call(self.http.get(url)).await
    }

    /// `GET /v1/sites/{site}`: a site's whole state.
    pub async fn site(&self, site: &str) -> Result<SiteState, Error> {
        let url = self.url(&["v1", "sites", id("site", site)?])?;
        self.call(self.http.get(url)).await
    }

    /// `GET /v1/users/{id}`: a user card.
    pub async fn user(&self, id: UserId) -> Result<UserCard, Error> {
        let url = self.url(&["v1", "users", &id.to_string()])?;
        self.call(self.http.get(url)).await
    }

    /// `PUT /v1/sites/{site}/sessions/{session}`: join, heartbeat or move, in one idempotent
    /// call. Call it again every [`SessionState::heartbeat_ms`] to stay present.
    pub async fn put_session(
        &self,
        site: &str,
        session: &str,
        body: &PutSession,
    ) -> Result<SessionState, Error> {
        let url = self.url(&[
            "v1",
            "sites",
            id("site", site)?,
            "sessions",
            id("session", session)?,
        ])?;
        self.call(self.http.put(url).json(body)).await
    }

    /// `DELETE /v1/sites/{site}/sessions/{session}`: leave at once.
    pub async fn delete_session(&self, site: &str, session: &str) -> Result<(), Error> {
        let url = self.url(&[
            "v1",
            "sites",
            id("site", site)?,
            "sessions",
            id("session", session)?,
        ])?;
        self.send(self.http.delete(url)).await.map(drop)
    }

    /// `POST /v1/sites/{site}/saves`: record a save. A base version older than the site's gives
    /// an error whose [`Error::stale_version`] tells the current version and the last save,
    /// unless `force` is set.
    pub async fn save(&self, site: &str, request: &SaveRequest) -> Result<SaveRecord, Error> {
        let url = self.url(&["v1", "sites", id("site", site)?, "saves"])?;
        self.call(self.http.post(url).json(request)).await
    }

    /// `GET /v1/sites/{site}/saves?limit=N`: a site's saves, newest first (the server's
    /// default number when `limit` is `None`).
    pub async fn saves(&self, site: &str, limit: Option<u32>) -> Result<Vec<SaveRecord>, Error> {
        let mut url = self.url(&["v1", "sites", id("site", site)?, "saves"])?;
        if let Some(limit) = limit {
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
        }
        self.call(self.http.get(url)).await
    }

    /// `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`, which cannot
    /// send an `Authorization` header.
    pub async fn ticket(&self) -> Result<Ticket, Error> {
        let url = self.url(&["v1", "tickets"])?;
        self.call(self.http.post(url)).await
    }

    /// `POST /v1/tickets {"sites": [...]}`: a ticket good for these sites only.
    pub async fn ticket_for(&self, sites: &[&str]) -> Result<Ticket, Error> {
        let url = self.url(&["v1", "tickets"])?;
        let request = copresence_core::TicketRequest {
            sites: sites.iter().map(|s| s.to_string()).collect(),
        };
        self.call(self.http.post(url).json(&request)).await
    }

    /// Subscribe to `GET /v1/events`: a live stream of updates that reconnects by itself. See
    /// [`Subscription`].
    ///
    /// Must be called within a Tokio runtime: the stream is driven by a spawned task.
    pub fn subscribe(&self, options: SubscribeOptions) -> Subscription {
        Subscription::start(self.clone(), options)
    }

    /// The base URL with `segments` appended, each percent-encoded as one path segment.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::InvalidUrl {
                url: self.base.to_string(),
                reason: "the URL cannot take a path".into(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Send a REST request and decode its JSON answer.
    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, Error> {
        let response = self.send(request).await?;
        let body = response.bytes().await.map_err(Error::Transport)?;
        serde_json::from_slice(&body).map_err(Error::Decode)
    }

    /// Send a REST request with the token and the request timeout; an error status becomes an
    /// [`Error::Api`].
    async fn send(&self, request: RequestBuilder) -> Result<reqwest::Response, Error> {
        let response = request
            .header(AUTHORIZATION, self.authorization().await?)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Transport)?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(Error::from_response(response).await)
        }
    }
}

/// A caller-given id as a path segment. The `url` crate encodes everything else, but skips `.`
/// and `..`, and an empty id would name another endpoint: refuse those.
fn id<'a>(what: &'static str, value: &'a str) -> Result<&'a str, Error> {
    if matches!(value, "" | "." | "..") {
        return Err(Error::InvalidArgument {
            what,
            value: value.to_owned(),
        });
    }
    Ok(value)
}

/// Check and normalise the server URL: `http` or `https`, a host, no query or fragment, a path
/// that ends with `/`.
fn parse_base_url(server_url: &str) -> Result<Url, Error> {
    let trimmed = server_url.trim();
    let invalid = |reason: &str| Error::InvalidUrl {
        url: trimmed.to_owned(),
        reason: reason.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid("the URL is empty"));
    }
    let mut url = Url::parse(trimmed).map_err(|e| {
        if trimmed.contains("://") {
            invalid(&e.to_string())
        } else {
            invalid("expected an http:// or https:// URL")
        }
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("expected an http:// or https:// URL"));
    }
    if url.cannot_be_a_base() || url.host_str().unwrap_or("").is_empty() {
        return Err(invalid("the URL has no host"));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The `Authorization` header for a token, marked sensitive so it is never logged.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::InvalidToken("the token is empty"));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::InvalidToken(
            "the token must be visible ASCII characters without spaces",
        ));
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Error::InvalidToken("the token cannot be sent in a header"))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_warns_off_this_machine_only() {
        assert!(super::cleartext_warning("http://presence.contoso.example").is_some());
        assert!(super::cleartext_warning("http://10.0.0.5:7878/").is_some());
        for quiet in [
            "https://presence.contoso.example",
            "http://127.0.0.1:7878",
            "http://localhost:7878",
            "http://[::1]:7878",
            "not a url",
        ] {
            assert_eq!(super::cleartext_warning(quiet), None, "{quiet}");
        }
    }

    use super::*;

    fn client(url: &str) -> Client {
        Client::new(url, "tok").unwrap()
    }

    #[test]
    fn trailing_slash_or_not_gives_the_same_urls() {
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let url = client(base).url(&["v1", "me"]).unwrap();
            assert_eq!(url.as_str(), "http://127.0.0.1:8080/v1/me");
        }
    }

    #[test]
    fn a_path_prefix_is_kept() {
        for base in [
            "https://example.test/copresence",
            "https://example.test/copresence/",
        ] {
            let url = client(base).url(&["v1", "sites"]).unwrap();
            assert_eq!(url.as_str(), "https://example.test/copresence/v1/sites");
        }
    }

    #[test]
    fn query_and_fragment_are_dropped() {
        let c = client("http://h.test/x?y=1#z");
        assert_eq!(c.server_url().as_str(), "http://h.test/x/");
    }

    #[test]
    fn segments_are_percent_encoded() {
        let url = client("http://h.test")
            .url(&["v1", "sites", "a b/c?d#e", "sessions", "..x", "%"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://h.test/v1/sites/a%20b%2Fc%3Fd%23e/sessions/..x/%25"
        );
    }

    #[tokio::test]
    async fn ids_that_a_path_would_drop_are_refused() {
        let c = client("http://127.0.0.1:9");
        for bad in ["", ".", ".."] {
            let err = c.delete_session("site", bad).await.unwrap_err();
            assert_eq!(err.code(), "invalid_argument", "{bad:?}");
            let err = c.site(bad).await.unwrap_err();
            assert_eq!(err.code(), "invalid_argument", "{bad:?}");
        }
    }

    #[test]
    fn bad_urls_are_refused_clearly() {
        for bad in [
            "",
            "   ",
            "localhost:8080",
            "127.0.0.1:8080",
            "ftp://h.test",
            "mailto:a@b.test",
            "http://",
            "http//h.test",
        ] {
            match Client::new(bad, "tok") {
                Err(err @ Error::InvalidUrl { .. }) => {
                    assert_eq!(err.code(), "invalid_url");
                    assert!(err.to_string().contains("invalid server URL"));
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn bad_tokens_are_refused() {
        for bad in ["", "  ", "a b", "tök", "a\nb"] {
            assert!(
                matches!(
                    Client::new("http://h.test", bad),
                    Err(Error::InvalidToken(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = Client::new("http://h.test", "s3cr3t-token").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t"));
        assert!(shown.contains("h.test"));
        assert!(matches!(&c.auth, Auth::Fixed(header) if header.is_sensitive()));
    }
}
