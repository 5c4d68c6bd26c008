//! `protocol/golden/editors.json` and `protocol/golden/open.json`, which the TypeScript
//! client's tests read too: both read a tab's address into a page by a site's editor rule
//! alike, and open the same address from a card.

use copresence_core::editors::{open_address, Editor};
use copresence_core::SessionInfo;
use serde::Deserialize;

fn golden(name: &str) -> String {
    let path = format!(
        "{}/../../protocol/golden/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorsFile {
    #[allow(dead_code)]
    description: String,
    cases: Vec<EditorCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorCase {
    name: String,
    /// As `GET /v1/sites` serves it.
    editor: serde_json::Value,
    address: String,
    page: Option<String>,
}

#[test]
fn a_tabs_page_follows_the_golden_file() {
    let file: EditorsFile = serde_json::from_str(&golden("editors.json")).unwrap();
    assert!(file.cases.len() >= 20);
    for case in &file.cases {
        let editor: Editor = serde_json::from_value(case.editor.clone())
            .unwrap_or_else(|e| panic!("{}: not an editor: {e}", case.name));
        assert_eq!(
            serde_json::to_value(&editor).unwrap(),
            case.editor,
            "{}: not as GET /v1/sites serves it",
            case.name
        );
        editor
            .validate(5000)
            .unwrap_or_else(|e| panic!("{}: the editor does not hold: {e}", case.name));
        assert_eq!(
            editor.page_of(&case.address),
            case.page,
            "{}: the page of {}",
            case.name,
            case.address
        );
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenFile {
    #[allow(dead_code)]
    description: String,
    cases: Vec<OpenCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCase {
    name: String,
    site_url: String,
    editors: Vec<Editor>,
    session: SessionOnPage,
    open: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionOnPage {
    page: String,
    url: Option<String>,
}

#[test]
fn open_follows_the_golden_file() {
    let file: OpenFile = serde_json::from_str(&golden("open.json")).unwrap();
    assert!(file.cases.len() >= 10);
    for case in &file.cases {
        let session = SessionInfo {
            id: "t".into(),
            page: case.session.page.clone(),
            client: "studio".into(),
            since: 0,
            page_since: 0,
            url: case.session.url.clone(),
        };
        assert_eq!(
            open_address(&case.site_url, &case.editors, &session),
            case.open,
            "{}",
            case.name
        );
    }
}
