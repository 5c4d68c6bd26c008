//! Who is a member of a site: the entries of a site's `members` list, and whether a person
//! matches one.
//!
//! An entry names one person by e-mail (`ann@contoso.test`), everyone of a domain
//! (`*@contoso.test`), or everyone in a directory group (`group:Makers`, by the group's id or
//! name as the sign-in token's groups claim carries it). Domain and group entries follow the
//! directory: someone whose token no longer carries the group, or whose e-mail moved to another
//! domain, is no longer a member on their next token. E-mail and domain comparisons ignore
//! case (addresses are case-insensitive in practice); group names do not (directories keep ids
//! exact).

use std::fmt;

/// One entry of a site's `members` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MemberRule {
    Email(String),
    /// Everyone whose e-mail is at this domain (lowercase, without the `@`).
    Domain(String),
    /// Everyone whose token carries this group.
    Group(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("member {entry:?}: {reason}")]
pub struct MemberRuleError {
    pub entry: String,
    pub reason: &'static str,
}

/// Longest entry taken.
pub const MAX_MEMBER_RULE_LEN: usize = 320;

impl MemberRule {
    /// Read one entry: `group:<id or name>`, `*@<domain>`, or an e-mail address.
    pub fn parse(entry: &str) -> Result<MemberRule, MemberRuleError> {
        let refuse = |reason| MemberRuleError {
            entry: entry.to_owned(),
            reason,
        };
        if entry.len() > MAX_MEMBER_RULE_LEN {
            return Err(refuse("longer than 320 characters"));
        }
        if entry.chars().any(char::is_control) || entry.trim() != entry {
            return Err(refuse("has control characters or spaces around it"));
        }
        if let Some(group) = entry.strip_prefix("group:") {
            if group.is_empty() {
                return Err(refuse("names no group"));
            }
            return Ok(MemberRule::Group(group.to_owned()));
        }
        if let Some(domain) = entry.strip_prefix("*@") {
            if domain.is_empty() || domain.contains(['@', '*', ' ']) {
                return Err(refuse("is not a domain pattern like *@contoso.com"));
            }
            return Ok(MemberRule::Domain(domain.to_ascii_lowercase()));
        }
        let (local, domain) = entry.rsplit_once('@').unwrap_or_default();
        if local.is_empty() || domain.is_empty() || entry.contains(['*', ' ']) {
            return Err(refuse(
                "is neither an e-mail address, a *@domain pattern nor group:<name>",
            ));
        }
        Ok(MemberRule::Email(entry.to_owned()))
    }

    /// Whether the person with `email` and the directory `groups` matches this entry.
    pub fn matches(&self, email: &str, groups: &[String]) -> bool {
        match self {
            MemberRule::Email(address) => address.eq_ignore_ascii_case(email),
            MemberRule::Domain(domain) => email
                .rsplit_once('@')
                .is_some_and(|(_, at)| at.eq_ignore_ascii_case(domain)),
            MemberRule::Group(group) => groups.iter().any(|g| g == group),
        }
    }
}

impl fmt::Display for MemberRule {
    /// The entry as written in a `members` list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberRule::Email(address) => f.write_str(address),
            MemberRule::Domain(domain) => write!(f, "*@{domain}"),
            MemberRule::Group(group) => write!(f, "group:{group}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn entries_name_a_person_a_domain_or_a_group() {
        assert_eq!(
            MemberRule::parse("ann@contoso.test"),
            Ok(MemberRule::Email("ann@contoso.test".into()))
        );
        assert_eq!(
            MemberRule::parse("*@Contoso.Test"),
            Ok(MemberRule::Domain("contoso.test".into()))
        );
        assert_eq!(
            MemberRule::parse("group:Makers"),
            Ok(MemberRule::Group("Makers".into()))
        );
        for bad in [
            "",
            "ann",
            "group:",
            "*@",
            "*@a@b",
            "a*@x.test",
            " ann@x.test",
            "ann@x.test\n",
        ] {
            assert!(MemberRule::parse(bad).is_err(), "{bad:?} was taken");
        }
        for entry in ["ann@contoso.test", "*@contoso.test", "group:Makers"] {
            assert_eq!(MemberRule::parse(entry).unwrap().to_string(), entry);
        }
    }

    #[test]
    fn a_person_matches_by_address_domain_or_group() {
        let ann = "Ann@Contoso.test";
        assert!(MemberRule::parse("ann@contoso.test")
            .unwrap()
            .matches(ann, &[]));
        assert!(MemberRule::parse("*@contoso.test")
            .unwrap()
            .matches(ann, &[]));
        assert!(!MemberRule::parse("*@contoso.test")
            .unwrap()
            .matches("ann@evil-contoso.test", &[]));
        assert!(!MemberRule::parse("*@test").unwrap().matches(ann, &[]));
        let makers = MemberRule::parse("group:Makers").unwrap();
        assert!(makers.matches(ann, &groups(&["Staff", "Makers"])));
        assert!(!makers.matches(ann, &groups(&["makers"])));
        assert!(!makers.matches(ann, &[]));
    }
}
