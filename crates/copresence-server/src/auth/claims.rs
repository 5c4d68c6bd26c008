//! What a verified access token says about the person: their e-mail (who they are here), the
//! name and photo the directory gives them, their Teams account, and their groups.
//!
//! Directories name these differently — Entra ID puts the sign-in name in `upn` or
//! `preferred_username` and may leave `email` out; Google and Keycloak send `email` — so each
//! claim's name is configurable ([`ClaimNames`]), with the common fallbacks built in.

use copresence_core::photo::check_photo_url;
use serde_json::{Map, Value};

use crate::store::DirectoryPerson;

/// The most groups taken from one token: beyond this a directory sends a reference to fetch
/// them instead (Entra's "groups overage"), which this service does not follow.
pub const MAX_GROUPS: usize = 500;

/// The claims read for each part of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// The e-mail; `preferred_username` and then `upn` are tried when it is absent or is not an
    /// address.
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
#[error("the token names no e-mail address (claims {tried})")]
pub struct NoEmail {
    tried: String,
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
) -> Result<(DirectoryPerson, Vec<String>), NoEmail> {
    let tried = [names.email.as_str(), "preferred_username", "upn"];
    let email = tried
        .iter()
        .find_map(|name| address(claims, name))
        .ok_or_else(|| NoEmail {
            tried: tried.join(", "),
        })?
        .to_owned();
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
                "email": "ann@contoso.test", "name": "Ann Lee",
                "groups": ["Makers", "Staff"], "picture": "https://photos.test/ann.png"
            })),
            &ClaimNames::default(),
        )
        .unwrap();
        assert_eq!(person.email, "ann@contoso.test");
        assert_eq!(person.name, "Ann Lee");
        assert_eq!(person.photo.as_deref(), Some("https://photos.test/ann.png"));
        assert_eq!(person.teams, None);
        assert_eq!(groups, ["Makers", "Staff"]);
    }

    #[test]
    fn entra_tokens_fall_back_on_the_sign_in_name() {
        let (person, groups) = person_of(
            &claims(json!({
                "preferred_username": "bo@fabrikam.test", "upn": "bo@fabrikam.test",
                "name": "Bo Chen", "groups": "9f1c-group-id", "picture": "http://evil.test/x"
            })),
            &ClaimNames::default(),
        )
        .unwrap();
        assert_eq!(person.email, "bo@fabrikam.test");
        assert_eq!(person.teams.as_deref(), Some("bo@fabrikam.test"));
        assert_eq!(person.photo, None, "a photo over plain http is not taken");
        assert_eq!(groups, ["9f1c-group-id"]);
    }

    #[test]
    fn a_token_without_an_address_is_refused_and_a_blank_name_is_the_email() {
        assert!(person_of(
            &claims(json!({"email": "not an address", "sub": "x"})),
            &ClaimNames::default()
        )
        .is_err());
        let (person, _) = person_of(
            &claims(json!({"mail": "cy@contoso.test", "name": "  "})),
            &ClaimNames {
                email: "mail".into(),
                ..ClaimNames::default()
            },
        )
        .unwrap();
        assert_eq!(person.name, "cy@contoso.test");
    }
}
