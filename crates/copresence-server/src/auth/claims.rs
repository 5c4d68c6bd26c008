//! What a verified access token says about the person: their e-mail (who they are here), the
//! name and photo the directory gives them, their Teams account, and their groups.
//!
//! Directories name these differently — Entra ID puts the sign-in name in `upn` or
//! `preferred_username` and may leave `email` out; Google and Keycloak send `email` — so each
//! claim's name is configurable ([`ClaimNames`]).
//!
//! The e-mail is who someone is here, so it is taken from the one configured claim only (no
//! fallback to a name a user may choose), refused when the provider says it is not verified
//! (`email_verified: false`), and compared in lowercase. Who they are at the provider
//! (`iss` and `sub`) goes with it, so the store can bind the two on first sign-in.

use copresence_core::photo::check_photo_url;
use serde_json::{Map, Value};

use crate::store::DirectoryPerson;

/// The most groups taken from one token: beyond this a directory sends a reference to fetch
/// them instead (Entra's "groups overage"), which this service does not follow.
pub const MAX_GROUPS: usize = 500;

/// The claims read for each part of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// The e-mail (for Entra ID, where `email` may be absent, `preferred_username`: the UPN).
    pub email: String,
    pub name: String,
    pub groups: String,
    /// The Teams user principal name; `preferred_username` is tried when it is absent.
    pub teams: String,
    pub photo: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            email: "email".into(),
            name: "name".into(),
            groups: "groups".into(),
            teams: "upn".into(),
            photo: "picture".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAPerson {
    #[error("the token's {0:?} claim is not an e-mail address")]
    NoEmail(String),
    #[error("the provider says the e-mail is not verified")]
    Unverified,
    #[error("the token names no subject (sub) or issuer")]
    NoSubject,
}

fn address<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| {
            let (local, domain) = value.rsplit_once('@').unwrap_or_default();
            !local.is_empty() && !domain.is_empty() && !value.chars().any(char::is_control)
        })
}

/// The person a token's claims describe, and their groups.
pub fn person_of(
    claims: &Map<String, Value>,
    names: &ClaimNames,
) -> Result<(DirectoryPerson, Vec<String>), NotAPerson> {
    let email = address(claims, &names.email)
        .ok_or_else(|| NotAPerson::NoEmail(names.email.clone()))?
        .to_lowercase();
    if claims.get("email_verified").and_then(Value::as_bool) == Some(false)
        && names.email == "email"
    {
        return Err(NotAPerson::Unverified);
    }
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let (Some(issuer), Some(sub)) = (text("iss"), text("sub")) else {
        return Err(NotAPerson::NoSubject);
    };
    let subject = format!("{issuer} {sub}");
    let name = claims
        .get(&names.name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.chars().any(char::is_control))
        .unwrap_or(&email)
        .to_owned();
    let teams = address(claims, &names.teams)
        .or_else(|| address(claims, "preferred_username"))
        .map(str::to_owned);
    let photo = claims
        .get(&names.photo)
        .and_then(Value::as_str)
        .filter(|url| check_photo_url(url).is_ok())
        .map(str::to_owned);
    let groups = match claims.get(&names.groups) {
        Some(Value::Array(groups)) => groups
            .iter()
            .filter_map(Value::as_str)
            .take(MAX_GROUPS)
            .map(str::to_owned)
            .collect(),
        // A single group may come as a string.
        Some(Value::String(group)) => vec![group.clone()],
        _ => Vec::new(),
    };
    Ok((
        DirectoryPerson {
            subject,
            email,
            name,
            teams,
            photo,
        },
        groups,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn google_and_keycloak_tokens_name_the_email() {
        let (person, groups) = person_of(
            &claims(json!({
                "iss": "https://idp.test", "sub": "ann-1",
                "email": "Ann@Contoso.test", "email_verified": true, "name": "Ann Lee",
                "groups": ["Makers", "Staff"], "picture": "https://photos.test/ann.png"
            })),
            &ClaimNames::default(),
        )
        .unwrap();
        assert_eq!(person.email, "ann@contoso.test", "compared in lowercase");
        assert_eq!(person.subject, "https://idp.test ann-1");
        assert_eq!(person.name, "Ann Lee");
        assert_eq!(person.photo.as_deref(), Some("https://photos.test/ann.png"));
        assert_eq!(person.teams, None);
        assert_eq!(groups, ["Makers", "Staff"]);
    }

    #[test]
    fn entra_tokens_name_the_user_by_the_configured_sign_in_name() {
        let entra = claims(json!({
            "iss": "https://login.microsoftonline.com/t/v2.0", "sub": "bo-1",
            "preferred_username": "bo@fabrikam.test", "upn": "bo@fabrikam.test",
            "name": "Bo Chen", "groups": "9f1c-group-id", "picture": "http://evil.test/x"
        }));
        assert_eq!(
            person_of(&entra, &ClaimNames::default()).unwrap_err(),
            NotAPerson::NoEmail("email".into()),
            "no fallback to a name that was not asked for"
        );
        let (person, groups) = person_of(
            &entra,
            &ClaimNames {
                email: "preferred_username".into(),
                ..ClaimNames::default()
            },
        )
        .unwrap();
        assert_eq!(person.email, "bo@fabrikam.test");
        assert_eq!(person.teams.as_deref(), Some("bo@fabrikam.test"));
        assert_eq!(person.photo, None, "a photo over plain http is not taken");
        assert_eq!(groups, ["9f1c-group-id"]);
    }

    #[test]
    fn unverified_or_missing_addresses_and_subjects_are_refused_and_a_blank_name_is_the_email() {
        let refused = |value| person_of(&claims(value), &ClaimNames::default()).unwrap_err();
        assert_eq!(
            refused(json!({"iss": "i", "sub": "x", "email": "not an address"})),
            NotAPerson::NoEmail("email".into())
        );
        assert_eq!(
            refused(
                json!({"iss": "i", "sub": "x", "email": "cy@contoso.test", "email_verified": false})
            ),
            NotAPerson::Unverified
        );
        assert_eq!(
            refused(json!({"iss": "i", "email": "cy@contoso.test"})),
            NotAPerson::NoSubject
        );
        let (person, _) = person_of(
            &claims(json!({"iss": "i", "sub": "x", "mail": "cy@contoso.test", "name": "  "})),
            &ClaimNames {
                email: "mail".into(),
                ..ClaimNames::default()
            },
        )
        .unwrap();
        assert_eq!(person.name, "cy@contoso.test");
    }
}
