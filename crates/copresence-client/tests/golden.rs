//! The shared golden files in `protocol/golden/`: this test holds the Rust client to them, and
//! the TypeScript client's `packages/client/test/golden.test.ts` holds that one to the same
//! files, so the two cannot drift apart.
//!
//! Each roster file is a sequence of events as the service sends them (the SSE `event:` name and
//! its JSON `data:`), with every site the client holds after each one. A step that says what the
//! server did (`server`: a session put or ended) is also checked against the server's rules:
//! [`Roster::put_session`] and [`Roster::end_session`] must derive exactly that event, so the
//! files show real traffic rather than events made up to suit a client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use copresence_client::core::roster::{Roster, SessionPut};
use copresence_client::core::{ErrorCode, Event, LeaveReason, UserCard, UserId};
use copresence_client::{LiveState, Update};
use serde::Deserialize;
use serde_json::Value;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../protocol/golden")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    /// For people reading the file.
    #[allow(dead_code)]
    description: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    comment: String,
    /// What the server did that made it publish this event, when it did anything.
    #[serde(default)]
    server: Option<ServerChange>,
    /// The SSE event name.
    event: String,
    /// The SSE data, as JSON.
    data: Value,
    /// Every site the client holds after the event, in site-id order.
    after: Value,
}

/// A session change on the server, on the event's site at the event's `at`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ServerChange {
    PutSession {
        user: UserCard,
        session: String,
        page: String,
        client: String,
        /// The editor tab's address the session put, when it put one.
        #[serde(default)]
        url: Option<String>,
    },
    EndSession {
        user: UserId,
        session: String,
        reason: LeaveReason,
    },
}

#[test]
fn the_rust_client_applies_every_golden_roster_file_as_it_says() {
    let dir = golden_dir().join("roster");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected the golden roster files in {}, found {files:?}",
        dir.display()
    );
    for path in files {
        check_roster_file(&path);
    }
}

fn check_roster_file(path: &Path) {
    let text = std::fs::read_to_string(path).expect("the golden file is readable");
    let file: RosterFile = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{}: not a golden roster file: {error}", path.display()));
    let mut live = LiveState::new();
    // The server's roster of each site, to derive events from.
    let mut server: BTreeMap<String, Roster> = BTreeMap::new();
    for (index, step) in file.steps.iter().enumerate() {
        let at = format!("{} step {} ({})", path.display(), index + 1, step.comment);
        let update = Update::from_message(&step.event, &step.data.to_string());
        let event = match &update {
            Some(Update::Snapshot(sites)) => Some(Event::Snapshot {
                sites: sites.clone(),
            }),
            Some(Update::Event(event)) => Some(event.clone()),
            _ => None,
        };
        match (&step.server, &event) {
            (Some(change), Some(event)) => {
                let derived = derive(&mut server, change, event);
                assert_eq!(
                    derived.as_ref(),
                    Some(event),
                    "{at}: the server's rules derive another event"
                );
            }
            (Some(_), None) => panic!("{at}: a server change must come with an event that reads"),
            // What the client sees without the server having done it here (a join it missed):
            // the server's roster follows, so later changes derive from what the client holds.
            (None, Some(event)) => follow(&mut server, event),
            (None, None) => {}
        }
        if let Some(update) = &update {
            live.apply(update);
        }
        let sites: Vec<_> = live.sites().collect();
        let state = serde_json::to_value(&sites).expect("site states serialise");
        if let Some(difference) = first_difference(&step.after, &state, "after") {
            panic!("{at}: the client's sites differ from the file at {difference}");
        }
        for site in sites {
            if let Some(roster) = server.get(&site.site.id) {
                assert_eq!(
                    &site.members, roster,
                    "{at}: the client's roster of {} is not the server's",
                    site.site.id
                );
            }
        }
    }
}

/// The event the server publishes for `change` on `event`'s site at `event`'s time.
fn derive(
    server: &mut BTreeMap<String, Roster>,
    change: &ServerChange,
    event: &Event,
) -> Option<Event> {
    let (site, now) = match event {
        Event::Join { site, at, .. }
        | Event::Move { site, at, .. }
        | Event::Leave { site, at, .. } => (site.as_str(), *at),
        other => panic!("a server change must come with a join, move or leave, not {other:?}"),
    };
    let roster = server.entry(site.to_owned()).or_default();
    match change {
        ServerChange::PutSession {
            user,
            session,
            page,
            client,
            url,
        } => {
            let put = SessionPut {
                page,
                client,
                url: url.as_deref(),
            };
            roster.put_session(site, user, session, put, now)
        }
        ServerChange::EndSession {
            user,
            session,
            reason,
        } => roster.end_session(site, *user, session, *reason, now),
    }
}

/// Keep the server's rosters in step with an event it did not derive here.
fn follow(server: &mut BTreeMap<String, Roster>, event: &Event) {
    match event {
        Event::Snapshot { sites } => {
            *server = sites
                .iter()
                .map(|state| (state.site.id.clone(), state.members.clone()))
                .collect();
        }
        delta => {
            let site = delta.site().expect("a delta names its site");
            if let Some(roster) = server.get_mut(site) {
                roster.apply(delta);
            }
        }
    }
}

/// Where two JSON values first differ (a path such as `after[0].members[1].sessions`, and the
/// two values there), or `None` when they are equal: a failing step names the one field that is
/// off rather than printing two whole states.
fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for key in want.keys().chain(got.keys()) {
                let inner = format!("{path}.{key}");
                match (want.get(key), got.get(key)) {
                    (Some(w), Some(g)) => {
                        if let Some(difference) = first_difference(w, g, &inner) {
                            return Some(difference);
                        }
                    }
                    (w, g) => return Some(format!("{inner}: expected {w:?}, got {g:?}")),
                }
            }
            None
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => want
            .iter()
            .zip(got)
            .enumerate()
            .find_map(|(i, (w, g))| first_difference(w, g, &format!("{path}[{i}]"))),
        (want, got) if want == got => None,
        (want, got) => Some(format!("{path}: expected {want}, got {got}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorCodesFile {
    #[allow(dead_code)]
    description: String,
    codes: Vec<String>,
}

#[test]
fn the_golden_error_codes_are_the_cores() {
    let path = golden_dir().join("error-codes.json");
    let text = std::fs::read_to_string(&path).expect("the golden file is readable");
    let file: ErrorCodesFile = serde_json::from_str(&text).expect("a list of codes");
    let known: Vec<&str> = ErrorCode::KNOWN.iter().map(ErrorCode::as_str).collect();
    assert_eq!(
        file.codes,
        known,
        "{} must list copresence_core::ErrorCode::KNOWN, in order",
        path.display()
    );
}
