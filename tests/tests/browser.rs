//! A browser's own `EventSource`, on an editor's origin, against the real service: a ticket
//! instead of a header, CORS, the browser's automatic reconnect resuming without flapping, a
//! stream ended by its ticket's expiry resumed with a fresh ticket, and a closed browser leaving
//! within the grace. Runs Chromium headless (`make test` installs it).

use std::process::Stdio;
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use copresence_client::SubscribeOptions;
use copresence_core::{Event, PutSession};
use copresence_tests::{events_within, first_snapshot, next_event, CuttableLink, TestServer};
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

/// The editor page, as `docs/protocol.md` shows it: publishes its session, then opens an
/// `EventSource` with a fresh ticket for its site; when the service ends the stream (`end`: the
/// ticket expired), it takes another ticket and resumes with `last_event_id`. It reports every
/// event it receives, and every stream it opens, back to its own origin.
const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>editor</title>
<script>
const server = "SERVER", token = "TOKEN", tab = "browser-tab";
let seq = 0, lastId = "";
const report = (what) => fetch("/report", { method: "POST", body: JSON.stringify({ seq: seq++, ...what }) });
const auth = { Authorization: "Bearer " + token };
async function open() {
  const { ticket } = await (await fetch(server + "/v1/tickets", { method: "POST",
    headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ sites: ["contoso"] }) })).json();
  report({ kind: "open", last_event_id: lastId });
  const feed = new EventSource(server + "/v1/events?site=contoso&session=" + tab +
    "&ticket=" + encodeURIComponent(ticket) + "&last_event_id=" + encodeURIComponent(lastId));
  for (const kind of ["snapshot", "join", "move", "leave", "saved"]) {
    feed.addEventListener(kind, (e) => {
      lastId = e.lastEventId;
      const d = JSON.parse(e.data);
      report({ kind, id: e.lastEventId, name: (d.member && d.member.user.name) || (d.user && d.user.name) || null, to: d.to || null });
    });
  }
  feed.addEventListener("end", async (e) => {
    feed.close();
    await report({ kind: "end", reason: JSON.parse(e.data).reason });
    // The test lets the page go on when it has changed something for the page to miss.
    await fetch("/go");
    open().catch((e) => report({ kind: "exception", message: String(e) }));
  });
  feed.onerror = () => report({ kind: "error" });
}
(async () => {
  try {
    const put = await fetch(server + "/v1/sites/contoso/sessions/" + tab, {
      method: "PUT", headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ page: "/products", client: "studio" }) });
    report({ kind: "put", status: put.status });
    await open();
  } catch (e) {
    report({ kind: "exception", message: String(e) });
  }
})();
</script>"#;

#[derive(Clone)]
struct Editor {
    page: String,
    reports: mpsc::UnboundedSender<serde_json::Value>,
    /// One permit for each time the page may go on after its stream ended.
    go: Arc<Semaphore>,
}

async fn serve_page(State(editor): State<Editor>) -> Html<String> {
    Html(editor.page)
}

async fn wait_to_go(State(editor): State<Editor>) {
    if let Ok(permit) = editor.go.acquire().await {
        permit.forget();
    }
}

async fn receive_report(State(editor): State<Editor>, body: String) {
    if let Ok(value) = serde_json::from_str(&body) {
        let _ = editor.reports.send(value);
    }
}

/// What the page reported, in the order it reported it (each report is its own request, so
/// they may arrive out of order), and everything reported so far.
struct Reports {
    incoming: mpsc::UnboundedReceiver<serde_json::Value>,
    early: std::collections::BTreeMap<u64, serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Reports {
    /// The next report in the page's order.
    async fn next_any(&mut self) -> serde_json::Value {
        let next = self.seen.len() as u64;
        loop {
            if let Some(report) = self.early.remove(&next) {
                self.seen.push(report.clone());
                return report;
            }
            let report = self.incoming.recv().await.expect("the editor origin is up");
            let seq = report["seq"].as_u64().expect("every report has its seq");
            self.early.insert(seq, report);
        }
    }

    /// The next report of one of `kinds` (skipping others), within 15 s.
    async fn next_of(&mut self, kinds: &[&str]) -> serde_json::Value {
        let wait = async {
            loop {
                let report = self.next_any().await;
                assert_ne!(report["kind"], "exception", "the page failed: {report}");
                if kinds.iter().any(|kind| report["kind"] == *kind) {
                    return report;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(15), wait)
            .await
            .unwrap_or_else(|_| panic!("the browser reported none of {kinds:?} within 15 s"))
    }

    async fn next(&mut self, kind: &str) -> serde_json::Value {
        self.next_of(&[kind]).await
    }

    /// The id of the last event the page reported.
    fn last_id(&self) -> serde_json::Value {
        let reported = self.seen.iter().rev().find_map(|r| r["id"].as_str());
        serde_json::Value::from(reported.expect("the page reported an event"))
    }

    fn count(&self, kind: &str) -> usize {
        self.seen.iter().filter(|r| r["kind"] == kind).count()
    }
}

fn chromium() -> std::path::PathBuf {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|name| std::path::Path::new("/usr/bin").join(name))
        .find(|path| path.exists());
    found.expect("Chromium is needed for the browser test: run `make test`, which installs it")
}

/// Chromium on the editor page, which talks to the service at `server` as Bo.
struct Browser {
    reports: Reports,
    /// Lets the page go on after its stream ended.
    go: Arc<Semaphore>,
    process: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// Serve the editor page on `editor` (whose origin the service allows) and open it in Chromium.
async fn open_editor(editor: tokio::net::TcpListener, server: &str, token: &str) -> Browser {
    let origin = format!("http://{}", editor.local_addr().unwrap());
    let (reports_tx, incoming) = mpsc::unbounded_channel();
    let page = PAGE.replace("SERVER", server).replace("TOKEN", token);
    let go = Arc::new(Semaphore::new(0));
    let app = axum::Router::new()
        .route("/", get(serve_page))
        .route("/report", post(receive_report))
        .route("/go", get(wait_to_go))
        .with_state(Editor {
            page,
            reports: reports_tx,
            go: go.clone(),
        });
    tokio::spawn(async move { axum::serve(editor, app).await });

    let profile = tempfile::tempdir().unwrap();
    let process = tokio::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&origin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("Chromium starts");
    Browser {
        reports: Reports {
            incoming,
            early: Default::default(),
            seen: Vec::new(),
        },
        go,
        process,
        _profile: profile,
    }
}

/// A listener for the editor's origin, bound first so the service can be told to allow it.
async fn editor_origin() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "cli".into(),
        title: None,
        url: None,
    }
}

/// Whether every event Ann saw is about Ann herself: Bo neither left nor joined again.
/// Whether none of these events is about Bo: no leave, no join again, no move. Ann's own may
/// come and go (her session lives a short TTL in one test, and may end while it is watched).
fn nothing_of_bo(events: &[Event]) -> bool {
    events.iter().all(|e| match e {
        Event::Join { member, .. } | Event::Move { member, .. } => member.user.name != "Bo Chen",
        Event::Leave { user, .. } => user.name != "Bo Chen",
        _ => true,
    })
}

#[tokio::test]
async fn a_browser_event_source_on_an_editor_origin_works_and_never_flaps() {
    let (editor, origin) = editor_origin().await;
    let server = TestServer::start(&["--allow-origin", &origin, "--reconnect-grace", "4s"]).await;
    let link = CuttableLink::to(&server.url).await;

    let ann = server.client("ann@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    let mut browser = open_editor(editor, &link.url, &server.token("bo@contoso.test")).await;
    let reports = &mut browser.reports;

    // The page published its session through CORS and opened its stream with a ticket.
    assert_eq!(reports.next("put").await["status"], 200);
    reports.next("snapshot").await;
    match next_event(&mut watch, Duration::from_secs(10)).await {
        Event::Join { member, .. } => {
            assert_eq!(member.user.name, "Bo Chen");
            assert_eq!(member.sessions[0].page, "/products");
        }
        other => panic!("expected the browser's join, got {other:?}"),
    }

    // Ann arrives: the browser sees her.
    ann.put_session("contoso", "ann", &at("/")).await.unwrap();
    assert_eq!(reports.next("join").await["name"], "Ann Lee");

    // The network drops the browser's stream; Ann moves meanwhile. The browser reconnects by
    // itself with Last-Event-ID and gets the move it missed, not a second snapshot; Ann sees no
    // leave and no join of Bo.
    link.cut();
    reports.next("error").await;
    ann.put_session("contoso", "ann", &at("/products/pricing"))
        .await
        .unwrap();
    let after = reports.next_of(&["move", "snapshot"]).await;
    assert_eq!(
        after["kind"], "move",
        "resumed, not re-snapshotted: {after}"
    );
    assert_eq!(after["to"], "/products/pricing");
    let seen_by_ann = events_within(&mut watch, Duration::from_secs(3)).await;
    assert!(
        nothing_of_bo(&seen_by_ann),
        "Bo flapped during the reconnect: {seen_by_ann:?}"
    );

    // The browser closes without a word: Bo leaves within the grace, not after the 45 s TTL.
    browser.process.kill().await.unwrap();
    let left = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Leave { user, .. } = next_event(&mut watch, Duration::from_secs(10)).await
            {
                return user;
            }
        }
    })
    .await
    .expect("Bo leaves within the grace");
    assert_eq!(left.name, "Bo Chen");
}

/// Tickets that live three seconds: each stream the page opens is ended by the service with
/// `event: end`, and the page's documented handler takes a fresh ticket and resumes from the
/// last id it saw. Ann moves each time the page is between two streams: the page gets each move
/// from the replay, one snapshot in all, and nobody sees Bo leave or join again — watched for
/// longer than the reconnect grace, so a stream that failed to hold Bo's session would show.
#[tokio::test]
async fn a_browser_whose_ticket_expires_resumes_with_a_fresh_one_and_never_flaps() {
    let (editor, origin) = editor_origin().await;
    let server = TestServer::start(&[
        "--allow-origin",
        &origin,
        "--ticket-lifetime",
        "3s",
        // Long enough for a loaded machine's Chromium to open the next stream.
        "--reconnect-grace",
        "4s",
        // The page never heartbeats: past this, only its streams hold its session up. Ann's
        // calls come at most a ticket's lifetime apart, so hers lives on.
        "--session-ttl",
        "5s",
    ])
    .await;

    let ann = server.client("ann@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    let mut browser = open_editor(editor, &server.url, &server.token("bo@contoso.test")).await;
    let go = browser.go.clone();
    let reports = &mut browser.reports;
    assert_eq!(reports.next("put").await["status"], 200);
    assert_eq!(reports.next("open").await["last_event_id"], "");
    reports.next("snapshot").await;
    match next_event(&mut watch, Duration::from_secs(10)).await {
        Event::Join { member, .. } => assert_eq!(member.user.name, "Bo Chen"),
        other => panic!("expected the browser's join, got {other:?}"),
    }
    ann.put_session("contoso", "ann", &at("/")).await.unwrap();
    let joined = reports.next("join").await;
    assert_eq!(joined["name"], "Ann Lee");

    // The ticket expires: the service ends the stream and says why. While the page is between
    // streams Ann moves; the page opens a new stream from the last id it saw and gets the move
    // from the replay. Twice.
    for page in ["/products/pricing", "/products"] {
        let end = reports.next("end").await;
        assert_eq!(end["reason"], "credential_expired");
        let last_seen = reports.last_id();
        ann.put_session("contoso", "ann", &at(page)).await.unwrap();
        go.add_permits(1);
        assert_eq!(reports.next("open").await["last_event_id"], last_seen);
        let moved = reports.next_of(&["move", "snapshot"]).await;
        assert_eq!(
            moved["kind"], "move",
            "resumed, not re-snapshotted: {moved}"
        );
        assert_eq!(moved["to"], page);
    }
    assert_eq!(reports.count("snapshot"), 1, "{:#?}", reports.seen);
    let seen_by_ann = events_within(&mut watch, Duration::from_secs(5)).await;
    assert!(
        nothing_of_bo(&seen_by_ann),
        "Bo flapped when his ticket expired: {seen_by_ann:?}"
    );
}
