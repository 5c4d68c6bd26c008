//! Signing in with the organisation's OpenID Connect provider, as a public client: the flows
//! the CLI and the tray app run, and the renewal of what they got.
//!
//! The service says how to sign in (`GET /v1/auth`, [`auth_info`]): the issuer, the public
//! client id, the scopes and the audience. From there:
//!
//! - [`SignIn::start_device`] / [`DeviceLogin::finish`]: the device authorization grant
//!   (RFC 8628) — a code to type on another device; for terminals.
//! - [`SignIn::start_browser`] / [`BrowserLogin::finish`]: the authorization code flow with PKCE
//!   and a loopback redirect on `127.0.0.1` with a port of the moment (RFC 8252), `state` and
//!   `nonce` checked and the ID token verified; for apps with a browser at hand.
//! - [`SignIn::refresh`]: new tokens from the refresh token, before the access token expires.
//!
//! Tokens are asked for the service's audience (RFC 8707 `resource`), except where the
//! provider takes the audience from a scope instead (Entra ID: a scope names it) or the
//! audience is the client itself (Google: its ID token is the bearer). The OAuth and OpenID
//! mechanics are the `openidconnect` crate's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use copresence_core::address::is_https_or_loopback;
use copresence_core::{AuthInfo, ProviderEndpoints, ProviderMetadata, SignInProvider};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreDeviceAuthorizationResponse, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::error::Error;

/// The longest a browser sign-in waits for the provider to send the browser back.
const BROWSER_WAIT: Duration = Duration::from_secs(600);

/// What a sign-in gives: the bearer token to send, and how to renew it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// What goes in `Authorization: Bearer` (the access token, or the ID token where the
    /// audience is the client itself).
    pub bearer: String,
    pub refresh_token: Option<String>,
    /// When `bearer` expires (ms since the epoch).
    pub expires_at: i64,
}

impl std::fmt::Debug for Tokens {
    /// Never the tokens themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// `GET /v1/auth` at `server_url`: how to sign in there.
pub async fn auth_info(server_url: &str) -> Result<AuthInfo, Error> {
    let client = crate::Client::new(server_url, "none")?;
    client.auth_info().await
}

/// Signing in with one provider the service named.
pub struct SignIn {
    provider: SignInProvider,
    http: reqwest::Client,
}

/// A device sign-in under way: show [`user_code`](Self::user_code) and
/// [`verification_uri`](Self::verification_uri), then [`finish`](Self::finish).
pub struct DeviceLogin<'a> {
    signin: &'a SignIn,
    client: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    details: CoreDeviceAuthorizationResponse,
}

/// A browser sign-in under way: open [`url`](Self::url), then [`finish`](Self::finish).
pub struct BrowserLogin<'a> {
    signin: &'a SignIn,
    client: MetadataClient,
    listener: TcpListener,
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

type MetadataClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Whether a provider's address may be used: https, or http on this machine only.
pub fn check_url(address: &str) -> Result<Url, Error> {
    let url = Url::parse(address).map_err(|e| signin_error("not an address", e))?;
    if !is_https_or_loopback(&url) {
        return Err(Error::SignIn(format!(
            "{address} is neither https nor on this machine: not signing in there"
        )));
    }
    Ok(url)
}

fn signin_error(what: &str, error: impl std::fmt::Display) -> Error {
    Error::SignIn(format!("{what}: {error}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SignIn {
    /// The first provider of `info` that a public client can sign in with.
    pub fn new(info: &AuthInfo) -> Result<SignIn, Error> {
        let provider = info
            .providers
            .iter()
            .find(|p| p.client_id.is_some())
            .cloned()
            .ok_or_else(|| {
                Error::SignIn(
                    "the service offers no sign-in with an organisation account (use a token)"
                        .into(),
                )
            })?;
        SignIn::with_provider(provider)
    }

    /// Sign in (again) with `provider`, as kept from an earlier sign-in.
    ///
    /// The service names the provider; everything else about it — where to send a device
    /// sign-in, where to revoke — is read from the provider's own discovery document, and every
    /// address must be https (http only on this machine): a service cannot send a sign-in, or a
    /// refresh token, anywhere else.
    pub fn with_provider(provider: SignInProvider) -> Result<SignIn, Error> {
        check_url(&provider.issuer)?;
        let http = reqwest::Client::builder()
            // The provider's answers are read as they are: a redirect could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(Error::Transport)?;
        Ok(SignIn { provider, http })
    }

    pub fn provider(&self) -> &SignInProvider {
        &self.provider
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.provider
            .scopes
            .iter()
            .filter(|s| *s != "openid")
            .map(|s| Scope::new(s.clone()))
    }

    async fn client(&self) -> Result<MetadataClient, Error> {
        let issuer = IssuerUrl::new(self.provider.issuer.clone())
            .map_err(|e| signin_error("the issuer", e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| signin_error("cannot read the provider's configuration", e))?;
        let client_id = self.provider.client_id.clone().unwrap_or_default();
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id),
            None,
        ))
    }

    fn tokens_from(&self, response: &CoreTokenResponse) -> Result<Tokens, Error> {
        let bearer = if self.provider.bearer_is_id_token() {
            response
                .id_token()
                .ok_or_else(|| Error::SignIn("the provider sent no ID token".into()))?
                .to_string()
        } else {
            response.access_token().secret().clone()
        };
        let lifetime = response
            .expires_in()
            .unwrap_or(Duration::from_secs(300))
            .as_millis() as i64;
        Ok(Tokens {
            bearer,
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            expires_at: now_ms() + lifetime,
        })
    }

    /// Start a device sign-in.
    pub async fn start_device(&self) -> Result<DeviceLogin<'_>, Error> {
        let endpoint = self
            .endpoints()
            .await?
            .device_authorization_endpoint
            .ok_or_else(|| {
                Error::SignIn("the provider offers no device sign-in: use the browser".into())
            })?;
        let client = self.client().await?.set_device_authorization_url(
            DeviceAuthorizationUrl::new(endpoint).map_err(|e| signin_error("the device URL", e))?,
        );
        let mut request = client.exchange_device_code().add_scopes(self.scopes());
        if self.provider.sends_resource() {
            request = request.add_extra_param("resource", self.provider.audience.clone());
        }
        let details: CoreDeviceAuthorizationResponse = request
            .request_async(&self.http)
            .await
            .map_err(|e| signin_error("the provider refused a device sign-in", e))?;
        Ok(DeviceLogin {
            signin: self,
            client,
            details,
        })
    }

    /// Start a browser sign-in: a loopback listener for the provider's redirect, and the URL to
    /// open.
    pub async fn start_browser(&self) -> Result<BrowserLogin<'_>, Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| signin_error("cannot listen on 127.0.0.1", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| signin_error("cannot listen on 127.0.0.1", e))?
            .port();
        let redirect = RedirectUrl::new(format!("http://127.0.0.1:{port}/callback"))
            .map_err(|e| signin_error("the redirect", e))?;
        let client = self.client().await?.set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge);
        if self.provider.sends_resource() {
            request = request.add_extra_param("resource", self.provider.audience.clone());
        }
        if self.provider.scopes.iter().any(|s| s == "offline_access") {
            // Some providers keep offline_access (a refresh token) for consented sign-ins only.
            request = request.add_extra_param("prompt", "consent");
        }
        let (url, state, nonce) = request.url();
        check_url(url.as_str())?;
        Ok(BrowserLogin {
            signin: self,
            client,
            listener,
            url,
            state,
            nonce,
            verifier,
        })
    }

    /// The provider's own discovery document: the endpoints it names for itself.
    async fn endpoints(&self) -> Result<ProviderEndpoints, Error> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.provider.issuer.trim_end_matches('/')
        );
        let metadata: ProviderMetadata = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| signin_error("cannot read the provider's configuration", e))?
            .json()
            .await
            .map_err(|e| signin_error("the provider's configuration does not read", e))?;
        if metadata.issuer != self.provider.issuer {
            return Err(Error::SignIn(format!(
                "the provider at {url} calls itself {:?}",
                metadata.issuer
            )));
        }
        let endpoints = metadata.endpoints;
        for endpoint in [
            &endpoints.device_authorization_endpoint,
            &endpoints.revocation_endpoint,
        ]
        .into_iter()
        .flatten()
        {
            check_url(endpoint)?;
        }
        Ok(endpoints)
    }

    /// Tell the provider to forget `refresh_token`, where it offers revocation (RFC 7009).
    /// Returns whether it was told.
    pub async fn revoke(&self, refresh_token: &str) -> Result<bool, Error> {
        let Some(endpoint) = self.endpoints().await?.revocation_endpoint else {
            return Ok(false);
        };
        let client_id = self.provider.client_id.clone().unwrap_or_default();
        let response = self
            .http
            .post(endpoint)
            .form(&[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
                ("client_id", client_id.as_str()),
            ])
            .send()
            .await
            .map_err(Error::Transport)?;
        Ok(response.status().is_success())
    }

    /// New tokens from `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        let client = self.client().await?;
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let mut request = client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| signin_error("the provider has no token endpoint", e))?;
        if self.provider.sends_resource() {
            request = request.add_extra_param("resource", self.provider.audience.clone());
        }
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                // The provider refused the grant itself: the sign-in is over.
                openidconnect::RequestTokenError::ServerResponse(refused)
                    if matches!(
                        refused.error(),
                        openidconnect::core::CoreErrorResponseType::InvalidGrant
                            | openidconnect::core::CoreErrorResponseType::InvalidClient
                            | openidconnect::core::CoreErrorResponseType::UnauthorizedClient
                    ) =>
                {
                    Error::SignedOut(format!("the sign-in cannot be renewed: {refused}"))
                }
                // A passing trouble (unavailable, overloaded, unreachable): try again later.
                other => signin_error("cannot renew the sign-in now", other),
            })?;
        let mut tokens = self.tokens_from(&response)?;
        // A provider that does not rotate refresh tokens sends none back: the old one stays.
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.secret().clone());
        }
        Ok(tokens)
    }
}

impl DeviceLogin<'_> {
    pub fn user_code(&self) -> &str {
        self.details.user_code().secret()
    }

    pub fn verification_uri(&self) -> &str {
        self.details.verification_uri()
    }

    /// The address with the code in it, where the provider offers one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.details
            .verification_uri_complete()
            .map(|uri| uri.secret().as_str())
    }

    /// Wait until the code is entered and approved (or refused, or expired).
    pub async fn finish(self) -> Result<Tokens, Error> {
        let response = self
            .client
            .exchange_device_access_token(&self.details)
            .map_err(|e| signin_error("the provider has no token endpoint", e))?
            .request_async(&self.signin.http, tokio::time::sleep, None)
            .await
            .map_err(|e| signin_error("the device sign-in did not complete", e))?;
        self.signin.tokens_from(&response)
    }
}

impl BrowserLogin<'_> {
    /// Where to send the browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Wait for the provider to send the browser back, check it, and exchange the code.
    pub async fn finish(self) -> Result<Tokens, Error> {
        let state = self.state.secret().clone();
        let query = tokio::time::timeout(BROWSER_WAIT, receive_redirect(&self.listener, &state))
            .await
            .map_err(|_| Error::SignIn("the sign-in in the browser was not finished".into()))??;
        let param = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if let Some(error) = param("error") {
            let description = param("error_description").unwrap_or_default();
            return Err(Error::SignIn(format!(
                "the provider said {error}: {description}"
            )));
        }
        let code = param("code").ok_or_else(|| Error::SignIn("no code came back".into()))?;
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| signin_error("the provider has no token endpoint", e))?
            .set_pkce_verifier(self.verifier);
        if self.signin.provider.sends_resource() {
            request = request.add_extra_param("resource", self.signin.provider.audience.clone());
        }
        let response = request
            .request_async(&self.signin.http)
            .await
            .map_err(|e| signin_error("the provider refused the code", e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| Error::SignIn("the provider sent no ID token".into()))?;
        id_token
            .claims(&self.client.id_token_verifier(), &self.nonce)
            .map_err(|e| signin_error("the ID token does not check out", e))?;
        self.signin.tokens_from(&response)
    }
}

/// How long one connection to the loopback listener may take to send its request.
const REQUEST_WAIT: Duration = Duration::from_secs(5);

/// Wait for the provider's redirect to the loopback listener: the request to `/callback`
/// that carries this sign-in's `state`, and return its query string. Anything else that
/// connects — a favicon request, another local program, a web page aiming at the port, one
/// with another `state` — is answered and waited past, each with a short timeout, so none of
/// them can end or hold up the sign-in.
async fn receive_redirect(listener: &TcpListener, state: &str) -> Result<String, Error> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| signin_error("the loopback listener failed", e))?;
        let Ok(head) = tokio::time::timeout(REQUEST_WAIT, read_head(&mut socket)).await else {
            continue;
        };
        let mut lines = head.lines();
        let target = lines
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default()
            .to_owned();
        // A page elsewhere reaching this port through a name that resolves here (DNS
        // rebinding) says so in its Host.
        let host_is_loopback = lines
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
            .is_some_and(|(_, host)| {
                let host = host.trim();
                host == "127.0.0.1" || host.starts_with("127.0.0.1:")
            });
        let query = target
            .strip_prefix("/callback?")
            .unwrap_or_default()
            .to_owned();
        let ours = host_is_loopback
            && url::form_urlencoded::parse(query.as_bytes())
                .any(|(key, value)| key == "state" && value == state);
        if !ours {
            let _ = socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let page = "<!doctype html><meta charset=utf-8><title>Copresence</title>\
                    <p>You can close this tab and go back to Copresence.</p>";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = socket.write_all(answer.as_bytes()).await;
        return Ok(query);
    }
}

/// A request's head (up to 16 KiB), as text.
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// How long before its expiry a kept token is renewed: a request sent with it must still find
/// it good at the service.
const RENEW_BEFORE_MS: i64 = 60_000;

/// A sign-in kept between runs: the service, the provider, and the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptSignIn {
    pub server: String,
    pub provider: SignInProvider,
    pub tokens: Tokens,
}

impl std::fmt::Debug for KeptSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptSignIn")
            .field("server", &self.server)
            .field("issuer", &self.provider.issuer)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// Where a kept sign-in lives between runs. Several processes of one user may hold it (two
/// `copresence` commands at once): renewing happens under its lock, from what it holds at that
/// moment — another process may have renewed it meanwhile (a rotating refresh token must not
/// be used twice: providers then revoke the whole sign-in), or signed out.
pub trait SignInKeeper: Send + Sync + 'static {
    /// Hold the keeper for this process until the returned value is dropped. May block.
    fn lock(&self) -> std::io::Result<Box<dyn Send>>;
    /// What it holds now, if anything.
    fn load(&self) -> Option<KeptSignIn>;
    /// Keep `kept` instead.
    fn keep(&self, kept: &KeptSignIn);
}

/// A [`TokenSource`](crate::TokenSource) from a kept sign-in: its token while it is good, a
/// renewed one (kept again through its [`SignInKeeper`]) from a minute before it expires.
pub struct RenewedToken {
    signin: SignIn,
    kept: tokio::sync::Mutex<KeptSignIn>,
    keeper: std::sync::Arc<dyn SignInKeeper>,
}

impl RenewedToken {
    pub fn new(
        kept: KeptSignIn,
        keeper: std::sync::Arc<dyn SignInKeeper>,
    ) -> Result<RenewedToken, Error> {
        Ok(RenewedToken {
            signin: SignIn::with_provider(kept.provider.clone())?,
            kept: tokio::sync::Mutex::new(kept),
            keeper,
        })
    }
}

impl crate::TokenSource for RenewedToken {
    fn token(&self) -> crate::client::BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let mut kept = self.kept.lock().await;
            if kept.tokens.expires_at - now_ms() > RENEW_BEFORE_MS {
                return Ok(kept.tokens.bearer.clone());
            }
            let keeper = self.keeper.clone();
            let held = tokio::task::spawn_blocking(move || {
                let guard = keeper.lock();
                (guard, keeper.load())
            })
            .await
            .map_err(|e| signin_error("cannot reach the kept sign-in", e))?;
            let (guard, latest) = held;
            let _guard = guard.map_err(|e| signin_error("cannot lock the kept sign-in", e))?;
            let Some(latest) = latest else {
                return Err(Error::SignedOut("signed out since".into()));
            };
            *kept = latest;
            if kept.tokens.expires_at - now_ms() > RENEW_BEFORE_MS {
                // Renewed by another process meanwhile.
                return Ok(kept.tokens.bearer.clone());
            }
            let refresh_token = kept.tokens.refresh_token.clone().ok_or_else(|| {
                Error::SignedOut("the sign-in expired and cannot be renewed".into())
            })?;
            kept.tokens = self.signin.refresh(&refresh_token).await?;
            self.keeper.keep(&kept);
            Ok(kept.tokens.bearer.clone())
        })
    }
}
