//! Which addresses may be reached over plain `http://`: only this machine's. Everywhere else a
//! token, a photo or a provider's page must come over `https`. The service's OpenID providers,
//! the clients' sign-in pages, profile photos and the warning about a cleartext server all
//! decide with this one rule.

use url::{Host, Url};

/// Whether `url` names this machine: a loopback address, or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `url` is `https` to some host, or `http` to this machine.
pub fn is_https_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://idp.contoso.test/x",
            "http://127.0.0.1:8080/",
            "http://127.9.9.9/",
            "http://[::1]/",
            "http://LOCALHOST/",
        ] {
            assert!(is_https_or_loopback(&url(ok)), "{ok}");
        }
        for refused in [
            "http://idp.contoso.test/",
            "http://127.0.0.1.evil.test/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(!is_https_or_loopback(&url(refused)), "{refused}");
        }
    }
}
