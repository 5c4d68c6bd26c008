//! `protocol/golden/sign-in.json`, which the TypeScript client's tests read too: both decide
//! alike whether to send the audience as an RFC 8707 `resource`, and which token is the bearer.

use copresence_core::SignInProvider;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInFile {
    #[allow(dead_code)]
    description: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// As it appears in `GET /v1/auth`.
    provider: serde_json::Value,
    sends_resource: bool,
    bearer_is_id_token: bool,
}

#[test]
fn sign_in_follows_the_golden_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../protocol/golden/sign-in.json"
    );
    let file: SignInFile = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(file.cases.len() >= 4);
    for case in &file.cases {
        let provider: SignInProvider = serde_json::from_value(case.provider.clone())
            .unwrap_or_else(|e| panic!("{}: not a provider of GET /v1/auth: {e}", case.name));
        // The file holds providers exactly as the service sends them.
        assert_eq!(
            serde_json::to_value(&provider).unwrap(),
            case.provider,
            "{}: not as GET /v1/auth sends it",
            case.name
        );
        assert_eq!(
            provider.sends_resource(),
            case.sends_resource,
            "{}: sends_resource",
            case.name
        );
        assert_eq!(
            provider.bearer_is_id_token(),
            case.bearer_is_id_token,
            "{}: bearer_is_id_token",
            case.name
        );
    }
}
