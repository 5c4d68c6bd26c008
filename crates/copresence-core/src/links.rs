//! Links that open a conversation with someone: a Teams 1:1 chat and an e-mail.
//!
//! Every value is percent-encoded as UTF-8 with spaces as `%20` (never form-encoding's `+`), so a
//! hostile address such as `a?b&c#d%@x.test` cannot smuggle a query, a fragment or a second
//! recipient into the link. A link that could not be built safely is refused, not patched.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is encoded in values.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// In an address, `@` may stay literal (RFC 6068 `some-delims`); all else as in values.
const ADDRESS: &AsciiSet = &VALUE.remove(b'@');

/// Where every Teams deep link must start.
pub const TEAMS_CHAT_PREFIX: &str = "https://teams.microsoft.com/l/chat/0/0?users=";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this user has no Teams account")]
    NoTeamsAccount,
    #[error(
        "not an e-mail address: it needs one '@' with text on both sides and no control characters"
    )]
    InvalidAddress,
}

fn is_plausible_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !address.chars().any(char::is_control)
}

/// `https://teams.microsoft.com/l/chat/0/0?users=UPN[&message=TEXT]`.
pub fn teams_chat(upn: Option<&str>, message: Option<&str>) -> Result<String, LinkError> {
    let upn = upn.map(str::trim).filter(|u| !u.is_empty());
    let upn = upn.ok_or(LinkError::NoTeamsAccount)?;
    if upn.chars().any(char::is_control) {
        return Err(LinkError::InvalidAddress);
    }
    let mut link = format!("{TEAMS_CHAT_PREFIX}{}", utf8_percent_encode(upn, ADDRESS));
    if let Some(message) = message.filter(|m| !m.is_empty()) {
        link.push_str("&message=");
        link.extend(utf8_percent_encode(message, VALUE));
    }
    Ok(link)
}

/// `mailto:ADDRESS[?subject=…&body=…]` per RFC 6068; line breaks in the body become `%0D%0A`.
pub fn mailto(
    address: &str,
    subject: Option<&str>,
    body: Option<&str>,
) -> Result<String, LinkError> {
    let address = address.trim();
    if !is_plausible_address(address) {
        return Err(LinkError::InvalidAddress);
    }
    let mut link = format!("mailto:{}", utf8_percent_encode(address, ADDRESS));
    let body = body.map(|b| b.replace("\r\n", "\n").replace('\n', "\r\n"));
    let fields = [("subject", subject), ("body", body.as_deref())];
    let mut separator = '?';
    for (name, value) in fields {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            link.push(separator);
            link.push_str(name);
            link.push('=');
            link.extend(utf8_percent_encode(value, VALUE));
            separator = '&';
        }
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, card_with_teams};

    #[test]
    fn teams_link_encodes_hostile_upn() {
        assert_eq!(
            teams_chat(Some("a?b&c#d%@x.test"), None).unwrap(),
            "https://teams.microsoft.com/l/chat/0/0?users=a%3Fb%26c%23d%25@x.test"
        );
    }

    #[test]
    fn teams_message_uses_percent_20_and_utf8() {
        assert_eq!(
            teams_chat(Some("ann@contoso.test"), Some("Hi Zoë & co")).unwrap(),
            "https://teams.microsoft.com/l/chat/0/0?users=ann@contoso.test&message=Hi%20Zo%C3%AB%20%26%20co"
        );
    }

    #[test]
    fn a_card_offers_teams_only_when_the_chat_can_open() {
        assert!(card_with_teams(1, "Ann", "ann@x.test").has_teams());
        assert!(!card(1, "Ann").has_teams());
        assert!(!card_with_teams(1, "Ann", "  ").has_teams());
        assert!(!card_with_teams(1, "Ann", "ann\u{7}@x.test").has_teams());
    }

    #[test]
    fn no_teams_account_is_its_own_state() {
        assert_eq!(teams_chat(None, None), Err(LinkError::NoTeamsAccount));
        assert_eq!(teams_chat(Some("  "), None), Err(LinkError::NoTeamsAccount));
    }

    #[test]
    fn mailto_encodes_address_subject_and_body() {
        assert_eq!(
            mailto("a?b&c#d%@x.test", None, None).unwrap(),
            "mailto:a%3Fb%26c%23d%25@x.test"
        );
        assert_eq!(
            mailto("ann@x.test", Some("Pricing page"), Some("line 1\nline=2")).unwrap(),
            "mailto:ann@x.test?subject=Pricing%20page&body=line%201%0D%0Aline%3D2"
        );
        assert_eq!(
            mailto("zoë smith@exämple.test", None, None).unwrap(),
            "mailto:zo%C3%AB%20smith@ex%C3%A4mple.test"
        );
    }

    #[test]
    fn mailto_refuses_what_is_not_an_address() {
        assert_eq!(mailto("nobody", None, None), Err(LinkError::InvalidAddress));
        assert_eq!(mailto("@x", None, None), Err(LinkError::InvalidAddress));
        assert_eq!(
            mailto("a@b\r\nBcc: c@d", None, None),
            Err(LinkError::InvalidAddress)
        );
    }
}
