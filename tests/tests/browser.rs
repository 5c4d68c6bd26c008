//! A browser's own `EventSource`, on an editor's origin, against the real service: a ticket
//! instead of a header, CORS, the browser's automatic reconnect resuming without flapping, and
//! a closed browser leaving within the grace. Runs Chromium headless (`make test` installs it).

use std::process::Stdio;
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use copresence_client::SubscribeOptions;
use copresence_core::{Event, PutSession};
use copresence_tests::{events_within, first_snapshot, next_event, CuttableLink, TestServer};
use tokio::sync::mpsc;

/// The editor page: takes a ticket, publishes its session, opens an `EventSource`, and reports
/// every event it receives back to its own origin.
const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>editor</title>
<script>
const server = "SERVER", token = "TOKEN", tab = "browser-tab";
let seq = 0;
const report = (what) => fetch("/report", { method: "POST", body: JSON.stringify({ seq: seq++, ...what }) });
(async () => {
  try {
    const auth = { Authorization: "Bearer " + token };
    const { ticket } = await (await fetch(server + "/v1/tickets", { method: "POST", headers: auth })).json();
    const put = await fetch(server + "/v1/sites/contoso/sessions/" + tab, {
      method: "PUT", headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ page: "/products", client: "studio" }) });
    report({ kind: "put", status: put.status });
    const feed = new EventSource(server + "/v1/events?site=contoso&session=" + tab + "&ticket=" + encodeURIComponent(ticket));
    for (const kind of ["snapshot", "join", "move", "leave", "saved"]) {
      feed.addEventListener(kind, (e) => {
        const d = JSON.parse(e.data);
        report({ kind, id: e.lastEventId, name: (d.member && d.member.user.name) || (d.user && d.user.name) || null, to: d.to || null });
      });
    }
    feed.onerror = () => report({ kind: "error" });
  } catch (e) {
    report({ kind: "exception", message: String(e) });
  }
})();
</script>"#;

#[derive(Clone)]
struct Editor {
    page: String,
    reports: mpsc::UnboundedSender<serde_json::Value>,
}

async fn serve_page(State(editor): State<Editor>) -> Html<String> {
    Html(editor.page)
}

async fn receive_report(State(editor): State<Editor>, body: String) {
    if let Ok(value) = serde_json::from_str(&body) {
        let _ = editor.reports.send(value);
    }
}

async fn next_report(
    reports: &mut mpsc::UnboundedReceiver<serde_json::Value>,
    kind: &str,
) -> serde_json::Value {
    let wait = async {
        loop {
            let report = reports.recv().await.expect("the editor origin is up");
            assert_ne!(report["kind"], "exception", "the page failed: {report}");
            if report["kind"] == kind {
                return report;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .unwrap_or_else(|_| panic!("the browser reported no {kind} within 15 s"))
}

fn chromium() -> std::path::PathBuf {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|name| std::path::Path::new("/usr/bin").join(name))
        .find(|path| path.exists());
    found.expect("Chromium is needed for the browser test: run `make test`, which installs it")
}

#[tokio::test]
async fn a_browser_event_source_on_an_editor_origin_works_and_never_flaps() {
    let editor_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let editor_origin = format!("http://{}", editor_listener.local_addr().unwrap());
    let server =
        TestServer::start(&["--allow-origin", &editor_origin, "--reconnect-grace", "4s"]).await;
    let link = CuttableLink::to(&server.url).await;

    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let page = PAGE
        .replace("SERVER", &link.url)
        .replace("TOKEN", &server.token("bo@contoso.test"));
    let app = axum::Router::new()
        .route("/", get(serve_page))
        .route("/report", post(receive_report))
        .with_state(Editor {
            page,
            reports: reports_tx,
        });
    tokio::spawn(async move { axum::serve(editor_listener, app).await });

    let ann = server.client("ann@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    let profile = tempfile::tempdir().unwrap();
    let mut browser = tokio::process::Command::new(chromium())
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
        .arg(&editor_origin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("Chromium starts");

    // The page published its session through CORS and opened its stream with a ticket.
    assert_eq!(next_report(&mut reports, "put").await["status"], 200);
    next_report(&mut reports, "snapshot").await;
    match next_event(&mut watch, Duration::from_secs(10)).await {
        Event::Join { member, .. } => {
            assert_eq!(member.user.name, "Bo Chen");
            assert_eq!(member.sessions[0].page, "/products");
        }
        other => panic!("expected the browser's join, got {other:?}"),
    }

    // Ann arrives: the browser sees her.
    let at = |page: &str| PutSession {
        page: page.into(),
        client: "cli".into(),
    };
    ann.put_session("contoso", "ann", &at("/")).await.unwrap();
    assert_eq!(next_report(&mut reports, "join").await["name"], "Ann Lee");

    // The network drops the browser's stream; Ann moves meanwhile. The browser reconnects by
    // itself with Last-Event-ID and gets the move it missed, not a second snapshot; Ann sees no
    // leave and no join of Bo.
    link.cut();
    next_report(&mut reports, "error").await;
    ann.put_session("contoso", "ann", &at("/products/pricing"))
        .await
        .unwrap();
    let after = loop {
        let report = tokio::time::timeout(Duration::from_secs(15), reports.recv())
            .await
            .expect("the browser reconnects within 15 s")
            .unwrap();
        if report["kind"] == "move" || report["kind"] == "snapshot" {
            break report;
        }
    };
    assert_eq!(
        after["kind"], "move",
        "resumed, not re-snapshotted: {after}"
    );
    assert_eq!(after["to"], "/products/pricing");
    let seen_by_ann = events_within(&mut watch, Duration::from_secs(3)).await;
    assert!(
        seen_by_ann.iter().all(|e| match e {
            Event::Join { member, .. } | Event::Move { member, .. } =>
                member.user.name == "Ann Lee",
            _ => false,
        }),
        "Bo flapped during the reconnect: {seen_by_ann:?}"
    );

    // The browser closes without a word: Bo leaves within the grace, not after the 45 s TTL.
    browser.kill().await.unwrap();
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
