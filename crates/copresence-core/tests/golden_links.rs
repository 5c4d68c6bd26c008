//! `protocol/golden/links.json`, which the TypeScript client's tests read too: both build the
//! same Teams and e-mail links, and refuse the same ones.

use copresence_core::links::{mailto, teams_chat, LinkError};
use serde::Deserialize;

#[derive(Deserialize)]
struct LinksFile {
    teams_chat: Vec<TeamsCase>,
    mailto: Vec<MailtoCase>,
}

#[derive(Deserialize)]
struct TeamsCase {
    comment: String,
    upn: Option<String>,
    message: Option<String>,
    #[serde(flatten)]
    expected: Expected,
}

#[derive(Deserialize)]
struct MailtoCase {
    comment: String,
    address: String,
    subject: Option<String>,
    body: Option<String>,
    #[serde(flatten)]
    expected: Expected,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expected {
    Link(String),
    Error(String),
}

fn code(error: LinkError) -> &'static str {
    match error {
        LinkError::NoTeamsAccount => "no_teams_account",
        LinkError::InvalidAddress => "invalid_address",
    }
}

fn check(comment: &str, built: Result<String, LinkError>, expected: &Expected) {
    match (built, expected) {
        (Ok(link), Expected::Link(want)) => assert_eq!(&link, want, "{comment}"),
        (Err(error), Expected::Error(want)) => assert_eq!(code(error), want, "{comment}"),
        (got, _) => panic!("{comment}: got {got:?}"),
    }
}

#[test]
fn links_follow_the_golden_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../protocol/golden/links.json"
    );
    let file: LinksFile = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(file.teams_chat.len() >= 5 && file.mailto.len() >= 5);
    for case in &file.teams_chat {
        let built = teams_chat(case.upn.as_deref(), case.message.as_deref());
        check(&case.comment, built, &case.expected);
    }
    for case in &file.mailto {
        let built = mailto(&case.address, case.subject.as_deref(), case.body.as_deref());
        check(&case.comment, built, &case.expected);
    }
}
