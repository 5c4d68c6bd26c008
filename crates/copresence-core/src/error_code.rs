//! The machine codes of the service's error answers (`{"error": {"code": …}}`), written once:
//! the service emits them and every client matches them, so a renamed or new code is a change
//! here that both sides see (and, for the TypeScript client, in `protocol/golden/error-codes.json`,
//! which a test holds to this list). A code this version does not know — from a newer service, or
//! derived by a client from a bare status — is kept as it came ([`ErrorCode::Other`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// What went wrong, for programs to branch on; the message is for people.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// A code not listed here.
            Other(String),
        }

        impl ErrorCode {
            /// Every code the service answers with.
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it is on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// The code for its wire form; what is not listed is [`ErrorCode::Other`].
            pub fn parse(text: &str) -> ErrorCode {
                match text {
                    $($text => ErrorCode::$variant,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// 401: no credential, or one that is unknown, expired or revoked.
    Unauthorized = "unauthorized",
    /// 404: no such resource — or a site the caller is not a member of.
    NotFound = "not_found",
    /// 405: the resource does not take that method.
    MethodNotAllowed = "method_not_allowed",
    /// 400: what was sent cannot be used (for example an organisation file that does not hold).
    BadRequest = "bad_request",
    /// 400: the body is not JSON.
    InvalidJson = "invalid_json",
    /// 400: the body is JSON of the wrong shape.
    InvalidBody = "invalid_body",
    /// 400: a path parameter cannot be read.
    InvalidPath = "invalid_path",
    /// 400: a query parameter cannot be read.
    InvalidQuery = "invalid_query",
    /// 400: a session id outside its alphabet or length.
    InvalidSessionId = "invalid_session_id",
    /// 400: a client name that is empty, too long or not printable.
    InvalidClient = "invalid_client",
    /// 400: a page path that is not absolute, too long or not printable.
    InvalidPage = "invalid_page",
    /// 400: a page title that is too long or not on one line.
    InvalidTitle = "invalid_title",
    /// 400: a sign-in redirect (`GET /v1/auth/redirect`) whose state names no return address
    /// the service may send the browser to.
    InvalidRedirect = "invalid_redirect",
    /// 400: a session's editor address that none of the site's editors maps to its page.
    InvalidUrl = "invalid_url",
    /// 400: a site id outside its alphabet or length.
    InvalidSiteId = "invalid_site_id",
    /// 400: the site has no such page.
    UnknownPage = "unknown_page",
    /// 400: more sites than one stream or ticket may follow.
    TooManySites = "too_many_sites",
    /// 400: a new page past a cap on the pages a site's editors may add (per user, per site).
    TooManyPages = "too_many_pages",
    /// 415: a body without a JSON content type.
    UnsupportedMediaType = "unsupported_media_type",
    /// 413: a body over the limit.
    PayloadTooLarge = "payload_too_large",
    /// 414: a request target over the limit.
    UriTooLong = "uri_too_long",
    /// 431: request headers over the limit.
    HeadersTooLarge = "headers_too_large",
    /// 409: a save on a version that is no longer current.
    StaleVersion = "stale_version",
    /// 429: a user's rate of session changes, saves or tickets.
    TooManyRequests = "too_many_requests",
    /// 429: a user's cap of open sessions.
    TooManySessions = "too_many_sessions",
    /// 429: a node's or an address's cap of open connections.
    TooManyConnections = "too_many_connections",
    /// 503: the store or live presence is away for a moment.
    StoreUnavailable = "store_unavailable",
    /// 500: a bug in the service; nothing was changed.
    Internal = "internal",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(ErrorCode::parse(&text))
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself_and_unknown_ones_are_kept() {
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(&serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        let newer = ErrorCode::parse("too_much_fun");
        assert_eq!(newer, ErrorCode::Other("too_much_fun".into()));
        assert_eq!(newer.as_str(), "too_much_fun");
    }
}
