//! The one error type of the client, and how an HTTP error answer becomes one.
//!
//! Callers branch on [`Error::code`], a stable machine code: the server's own code for an error
//! answer (`unauthorized`, `stale_version`, …), or one of this crate's (`network`, `decode`,
//! `invalid_url`, `invalid_token`, `invalid_argument`) for what never reached or never made sense as an answer.

use std::fmt;
use std::time::Duration;

use copresence_core::{ErrorBody, ErrorCode, ErrorDetail, SaveRecord};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// Longest piece of a non-JSON error body kept as the message.
const MAX_FALLBACK_MESSAGE: usize = 200;

/// Everything a [`Client`](crate::Client) call or a [`Subscription`](crate::Subscription) can
/// fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server URL given to [`Client::new`](crate::Client::new) is not a usable `http(s)` URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The token cannot be sent in an `Authorization` header (empty, or not visible ASCII).
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),

    /// An id given to a call cannot name anything: empty, `.` or `..` (which a URL path would
    /// drop or resolve instead of sending).
    #[error("invalid {what}: {value:?} cannot be used as an id")]
    InvalidArgument { what: &'static str, value: String },

    /// The request did not get an answer: connection refused, DNS, TLS, timeout, connection lost
    /// while reading the answer.
    #[error("network error: {}", describe_transport(.0))]
    Transport(reqwest::Error),

    /// The server (or a proxy in front of it) answered with an error status.
    ///
    /// `code` and `message` come from the JSON error body; when the body is not JSON (a proxy's
    /// HTML page) they are derived from the status. `detail` is the whole decoded body, with
    /// `current_version` and `last_save` on a `stale_version` conflict.
    #[error("{message} (HTTP {status}, {code})")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        /// Boxed: it can hold a whole save record, and errors travel in every `Result`.
        detail: Box<ErrorDetail>,
        /// The `Retry-After` the server asked for (seconds form), e.g. on `store_unavailable`.
        retry_after: Option<Duration>,
    },

    /// A success answer whose body is not what the protocol promises.
    #[error("unexpected answer from the server: {0}")]
    Decode(serde_json::Error),

    /// Signing in with the organisation's provider did not work ([`crate::signin`]).
    #[error("sign-in failed: {0}")]
    SignIn(String),

    /// A sign-in that was good can no longer be renewed (the refresh token was refused or
    /// revoked): sign in again.
    #[error("signed out: {0}")]
    SignedOut(String),
}

impl Error {
    /// A stable machine code for UIs to match on: the server's error code for API errors, and
    /// `network`, `decode`, `invalid_url` or `invalid_token` otherwise.
    pub fn code(&self) -> &str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::InvalidToken(_) => "invalid_token",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::Transport(_) => "network",
            Error::Api { code, .. } => code.as_str(),
            Error::Decode(_) => "decode",
            Error::SignIn(_) => "sign_in_failed",
            Error::SignedOut(_) => "signed_out",
        }
    }

    /// The service's code for an error answer, to match on ([`ErrorCode`]); `None` for what
    /// never was an answer.
    pub fn service_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The token was refused: ask the user for another one, do not retry.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
            || self.service_code() == Some(&ErrorCode::Unauthorized)
            || matches!(self, Error::SignedOut(_))
    }

    /// The site (or user, or session) does not exist or the caller is not a member of the site.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || self.service_code() == Some(&ErrorCode::NotFound)
    }

    /// Did the request not get through (network) or meet a passing server condition (5xx, 408,
    /// 429)? Such a request may succeed when tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Api { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// On a save conflict (`409 stale_version`): the site's current version and its last save.
    pub fn stale_version(&self) -> Option<(i64, Option<SaveRecord>)> {
        match self {
            Error::Api {
                code: ErrorCode::StaleVersion,
                detail,
                ..
            } => Some((
                detail
                    .current_version
                    .or(detail.last_save.as_ref().map(|s| s.version))?,
                detail.last_save.clone(),
            )),
            _ => None,
        }
    }

    /// How long the server asked the caller to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Build an API error from an error answer, reading its body.
    pub(crate) async fn from_response(response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers());
        // A body that cannot be read still leaves the status to go on.
        let body = response.bytes().await.unwrap_or_default();
        Error::from_parts(status, retry_after, &body)
    }

    /// Build an API error from a status and a body: the JSON error body when there is one, a
    /// code and message derived from the status otherwise.
    pub(crate) fn from_parts(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
        let detail = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) if !error.code.as_str().is_empty() => error,
            _ => ErrorDetail {
                code: fallback_code(status),
                message: fallback_message(status, body),
                current_version: None,
                last_save: None,
            },
        };
        Error::Api {
            status,
            code: detail.code.clone(),
            message: detail.message.clone(),
            detail: Box::new(detail),
            retry_after,
        }
    }
}

/// 5xx, 408 and 429 are passing conditions; other 4xx will fail the same way again.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// The `Retry-After` header in its seconds form (the date form is not used by the service).
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A code for a status, for error answers that did not carry one (a proxy's): the protocol's
/// where it has one, else one of this crate's.
fn fallback_code(status: u16) -> ErrorCode {
    let own = |code: &str| ErrorCode::Other(code.to_owned());
    match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => own("forbidden"),
        404 => ErrorCode::NotFound,
        408 => own("timeout"),
        409 => own("conflict"),
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::TooManyRequests,
        502..=504 => own("unavailable"),
        500..=599 => own("server_error"),
        _ => own("http_error"),
    }
}

/// The body's text when it is short plain text, the status line otherwise.
fn fallback_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let looks_like_markup = text.starts_with('<');
    if !text.is_empty() && !looks_like_markup {
        let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut message: String = one_line.chars().take(MAX_FALLBACK_MESSAGE).collect();
        if message.len() < one_line.len() {
            message.push('…');
        }
        return message;
    }
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    format!("HTTP {status} {reason}")
}

/// A transport error said briefly: what failed, where, and the root cause (`cannot connect to
/// 127.0.0.1:8080: Connection refused`), rather than every layer's wording.
pub(crate) fn describe_transport(error: &reqwest::Error) -> String {
    let at = error
        .url()
        .and_then(|url| {
            let host = url.host_str()?;
            Some(match url.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        })
        .unwrap_or_else(|| "the server".to_owned());
    let mut root: &(dyn std::error::Error + 'static) = error;
    while let Some(cause) = root.source() {
        root = cause;
    }
    let root = root.to_string();
    if error.is_timeout() {
        format!("{at} did not answer in time")
    } else if error.is_connect() {
        format!("cannot connect to {at}: {root}")
    } else if error.is_body() || error.is_decode() {
        format!("the connection to {at} broke: {root}")
    } else {
        Chain(error).to_string()
    }
}

/// An error with its whole chain of causes, `: `-separated, each said once.
pub(crate) struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Some errors repeat their cause in their own message: do not say it twice.
            if !said.contains(&text) {
                write!(f, ": {text}")?;
                said = text;
            }
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copresence_core::fixtures::{card, save};

    #[test]
    fn json_error_body_gives_code_message_and_detail() {
        let body = br#"{"error":{"code":"unauthorized","message":"unknown token"}}"#;
        let err = Error::from_parts(401, None, body);
        assert_eq!(err.code(), "unauthorized");
        assert!(err.is_unauthorized());
        assert!(!err.is_retryable());
        assert_eq!(err.to_string(), "unknown token (HTTP 401, unauthorized)");
        assert!(err.stale_version().is_none());
    }

    #[test]
    fn stale_version_carries_current_version_and_last_save() {
        let save = save(7, "/pricing", card(2, "Bo Chen"));
        let body = serde_json::to_vec(&ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::StaleVersion,
                message: "the site has moved on".into(),
                current_version: Some(7),
                last_save: Some(save.clone()),
            },
        })
        .unwrap();
        let err = Error::from_parts(409, None, &body);
        assert_eq!(err.code(), "stale_version");
        assert_eq!(err.stale_version(), Some((7, Some(save))));
    }

    #[test]
    fn non_json_bodies_fall_back_on_the_status() {
        let proxy = Error::from_parts(502, None, b"<html><body>Bad Gateway</body></html>");
        assert_eq!(proxy.code(), "unavailable");
        assert!(proxy.is_retryable());
        assert!(proxy.to_string().contains("HTTP 502 Bad Gateway"));

        let plain = Error::from_parts(401, None, b"  no\n  entry  ");
        assert_eq!(plain.code(), "unauthorized");
        assert!(plain.is_unauthorized());
        assert!(plain.to_string().starts_with("no entry"));

        let empty = Error::from_parts(404, None, b"");
        assert!(empty.is_not_found());

        let long = Error::from_parts(500, None, "x".repeat(1000).as_bytes());
        match long {
            Error::Api { message, .. } => assert!(message.chars().count() <= 201),
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn json_without_the_error_shape_falls_back_too() {
        let err = Error::from_parts(503, Some(Duration::from_secs(2)), br#"{"oops":1}"#);
        assert_eq!(err.code(), "unavailable");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        let err = Error::from_parts(400, None, br#"{"error":{"code":"","message":"?"}}"#);
        assert_eq!(err.code(), "bad_request");
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn local_errors_have_their_own_codes() {
        let err = Error::InvalidToken("the token is empty");
        assert_eq!(err.code(), "invalid_token");
        assert!(!err.is_retryable());
        let err = Error::Decode(serde_json::from_str::<u8>("x").unwrap_err());
        assert_eq!(err.code(), "decode");
    }

    #[test]
    fn chains_say_each_cause_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("request failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            Chain(&err).to_string(),
            "request failed: connection refused"
        );
    }
}
