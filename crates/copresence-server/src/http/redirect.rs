//! `GET /v1/auth/redirect`: the one redirect URI that editors without a loopback listener sign
//! in through.
//!
//! An editor in a browser (VS Code for the Web, code-server) gets control back at an address its
//! workbench makes up per request, and desktop VS Code at a `vscode://` URI: neither can be
//! registered exactly with the organisation's OpenID provider. The operator registers this
//! address instead; the editor puts where it wants to be returned in the `state` it sends the
//! provider (`<opaque>.<base64url of the return address>`), and this sends the browser on there
//! with the provider's answer, when the return address is one the operator allows.
//!
//! It needs no credential and keeps nothing: like `GET /v1/auth`, it is bounded by the limits on
//! every request (connections per address, the request target's length).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use copresence_core::ErrorCode;
use url::Url;

use super::AppState;
use crate::error::ApiError;

/// Where editors ask to be returned when the operator names none (`--sign-in-return`): the
/// Copresence extension's URIs in desktop VS Code and its builds (VS Code's own, Insiders,
/// VSCodium, and Code - OSS, which code-server and VS Code for the Web report as their scheme).
pub const DEFAULT_SIGN_IN_RETURNS: &[&str] = &[
    "vscode://copresence.copresence/",
    "vscode-insiders://copresence.copresence/",
    "vscodium://copresence.copresence/",
    "code-oss://copresence.copresence/",
];

/// The longest return address taken, in bytes.
pub const MAX_RETURN_BYTES: usize = 4096;

/// The prefixes a return address must start with, each as the `url` crate serialises it, so
/// that `https://EDITOR.example/` and `https://editor.example/` are one.
#[derive(Debug, Clone, Default)]
pub struct SignInReturns {
    prefixes: Vec<String>,
}

impl SignInReturns {
    /// Each CORS origin followed by `/`, and each `--sign-in-return` prefix; a prefix that is
    /// not `scheme://host/…` is refused with a message for the operator.
    pub fn new(allow_origins: &[String], returns: &[String]) -> Result<SignInReturns, String> {
        let mut prefixes = Vec::new();
        for origin in allow_origins {
            let origin = origin.trim().trim_end_matches('/');
            if let Ok(prefix) = prefix(&format!("{origin}/")) {
                prefixes.push(prefix);
            }
        }
        for given in returns {
            let given = given.trim();
            if given.is_empty() {
                continue;
            }
            prefixes.push(prefix(given).map_err(|why| {
                format!("--sign-in-return {given:?} is not a return prefix: {why}")
            })?);
        }
        prefixes.sort();
        prefixes.dedup();
        Ok(SignInReturns { prefixes })
    }

    /// The prefixes, as compared.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// The return address `state` names, if it is one to send a browser to.
    pub fn check(&self, state: &str) -> Result<Url, String> {
        let Some((_, encoded)) = state.rsplit_once('.').filter(|(_, r)| !r.is_empty()) else {
            return Err("the state has no return address: it must be \
                 <opaque>.<return address in base64url>"
                .to_owned());
        };
        // Base64 takes 4 characters for 3 bytes: anything longer decodes past the bound.
        if encoded.len() > MAX_RETURN_BYTES.div_ceil(3) * 4 {
            return Err(too_long());
        }
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| {
            "the state's return address is not base64url without padding".to_owned()
        })?;
        if bytes.len() > MAX_RETURN_BYTES {
            return Err(too_long());
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| "the state's return address is not UTF-8".to_owned())?;
        let url = Url::parse(&text)
            .map_err(|_| "the state's return address is not an absolute URL".to_owned())?;
        if url.fragment().is_some() {
            return Err(
                "the return address has a fragment (#…), which would hide the \
                 provider's answer from the editor"
                    .to_owned(),
            );
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the return address carries a user name or password (…@)".to_owned());
        }
        if !self.prefixes.iter().any(|p| url.as_str().starts_with(p)) {
            let origin = origin_of(&url);
            return Err(format!(
                "the return address on {origin} is not one this service returns to: the \
                 operator allows it with --allow-origin {origin} or --sign-in-return {origin}/"
            ));
        }
        Ok(url)
    }
}

fn too_long() -> String {
    format!("the state's return address is longer than {MAX_RETURN_BYTES} bytes")
}

/// `given` as compared: `scheme://host/…`, with no user, query or fragment. The path must start
/// with `/`, so that a prefix always ends its host: `vscode://copresence.copresence` would let
/// `vscode://copresence.copresence.evil/` through.
fn prefix(given: &str) -> Result<String, &'static str> {
    let url = Url::parse(given).map_err(|_| "it is not an absolute URL")?;
    if !url.has_host() || url.host_str() == Some("") {
        return Err("give scheme://host/…, with a host");
    }
    if !url.path().starts_with('/') {
        return Err("end the host with / (scheme://host/…)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it carries a user name or password");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it has a query or a fragment");
    }
    Ok(url.into())
}

/// `scheme://host[:port]`, which for a scheme the URL standard does not know (`vscode:`) is not
/// what [`Url::origin`] gives (an opaque origin).
fn origin_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("{}:", url.scheme()),
    }
}

/// `303 See Other` to the return address in `state`, with the provider's answer (the query as
/// it came) appended; `400 invalid_redirect` when there is none to go to.
pub async fn redirect(State(state): State<AppState>, uri: Uri) -> Response {
    let mut response = match answer(&state, &uri) {
        Ok(location) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(message) => ApiError::bad_request(ErrorCode::InvalidRedirect, message).into_response(),
    };
    // The address carries an authorization code: keep it out of caches and of Referer.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn answer(state: &AppState, uri: &Uri) -> Result<HeaderValue, String> {
    let query = uri.query().unwrap_or_default();
    let mut states = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "state")
        .map(|(_, value)| value);
    let Some(first) = states.next() else {
        return Err(
            "no state: the provider's answer must carry the state the editor sent, \
             <opaque>.<return address in base64url>"
                .to_owned(),
        );
    };
    if states.next().is_some() {
        return Err("more than one state".to_owned());
    }
    let url = state.sign_in_returns.check(&first)?;
    // The query as it came: the provider encoded its parameters already.
    let joiner = if url.query().is_some() { '&' } else { '?' };
    HeaderValue::try_from(format!("{url}{joiner}{query}"))
        .map_err(|_| "the provider's answer cannot be passed on".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn returns(origins: &[&str], prefixes: &[&str]) -> SignInReturns {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        SignInReturns::new(&owned(origins), &owned(prefixes)).unwrap()
    }

    fn state(address: &str) -> String {
        format!("csrf-Value_1.{}", URL_SAFE_NO_PAD.encode(address))
    }

    #[test]
    fn prefixes_are_compared_as_serialised() {
        let allowed = returns(
            &["https://EDITOR.example"],
            &["vscode://copresence.copresence/"],
        );
        assert_eq!(
            allowed.prefixes(),
            ["https://editor.example/", "vscode://copresence.copresence/"]
        );
        let url = allowed
            .check(&state("https://Editor.Example/cb?x=1"))
            .unwrap();
        assert_eq!(url.as_str(), "https://editor.example/cb?x=1");
        assert!(allowed
            .check(&state("vscode://copresence.copresence/signed-in"))
            .is_ok());
    }

    #[test]
    fn what_is_not_allowed_is_refused() {
        let allowed = returns(
            &["https://editor.example"],
            &["vscode://copresence.copresence/"],
        );
        for address in [
            "https://evil.example/",
            "https://editor.example@evil.example/",
            "https://editor.example.evil.example/",
            "https://editor.example:8443/",
            "http://editor.example/",
            "vscode://copresence.copresence.evil/",
            "vscode://other.extension/",
            "https://editor.example/#x",
            "https://user:pw@editor.example/",
            "javascript:alert(1)",
            "/relative",
        ] {
            assert!(allowed.check(&state(address)).is_err(), "{address}");
        }
        for bad in ["", "nodot", "x.", "x.!!!", "x.aGk=", "x.__8"] {
            assert!(allowed.check(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://editor.example/{}", "a".repeat(MAX_RETURN_BYTES));
        assert!(allowed.check(&state(&long)).unwrap_err().contains("4096"));
        let just = format!(
            "https://editor.example/{}",
            "a".repeat(MAX_RETURN_BYTES - "https://editor.example/".len())
        );
        assert!(allowed.check(&state(&just)).is_ok());
    }

    #[test]
    fn the_last_dot_splits() {
        let allowed = returns(&[], &["vscode://copresence.copresence/"]);
        let state = format!(
            "a.b.c.{}",
            URL_SAFE_NO_PAD.encode("vscode://copresence.copresence/x")
        );
        assert!(allowed.check(&state).is_ok());
    }

    #[test]
    fn a_prefix_that_does_not_end_its_host_is_refused() {
        let owned = |s: &str| vec![s.to_owned()];
        for bad in [
            "vscode://copresence.copresence",
            "not a url",
            "mailto:ann@contoso.test",
            "https://u@editor.example/",
            "https://editor.example/?x",
        ] {
            let error = SignInReturns::new(&[], &owned(bad)).unwrap_err();
            assert!(error.starts_with("--sign-in-return"), "{error}");
        }
        assert!(SignInReturns::new(&[], &owned("https://editor.example")).is_ok());
    }
}
