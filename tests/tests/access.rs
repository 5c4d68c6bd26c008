//! Access that ends: tickets scoped to their sites and ending their stream when they expire,
//! tokens revoked and members pruned by the operator's command line, seen within seconds by
//! requests and by open event streams — on one node, and on two nodes sharing PostgreSQL.

use std::time::{Duration, Instant};

use copresence_client::{SubscribeOptions, Subscription, Update};
use copresence_core::{Event, PutSession};
use copresence_tests::{first_snapshot, next_event, TestServer, ORG};
use futures_util::StreamExt;
use reqwest_eventsource::{Event as SseEvent, EventSource};

/// What a revocation must take at most to reach requests and open streams.
const WITHIN: Duration = Duration::from_secs(5);

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: None,
    }
}

/// The test organisation with a second site of Ann's.
fn org_with_second_site() -> String {
    format!(
        "{ORG}\n[[sites]]\nid = \"northwind\"\nname = \"Northwind\"\nurl = \"https://northwind.example\"\nmembers = [\"ann@contoso.test\"]\npages = [ {{ path = \"/\", title = \"Home\" }} ]\n"
    )
}

/// Wait until `subscription` ends for good (its token refused), panicking after `within`.
async fn wait_for_fatal(subscription: &mut Subscription, within: Duration) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let update = tokio::time::timeout_at(deadline, subscription.next())
            .await
            .unwrap_or_else(|_| panic!("the stream still runs after {within:?}"));
        match update {
            Some(Update::Fatal(error)) => return error.code().to_owned(),
            Some(_) => {}
            None => panic!("the subscription ended without saying why"),
        }
    }
}

/// The names (and data) of the messages of a raw SSE stream until it closes, or `within`.
async fn messages_until_closed(url: &str, within: Duration) -> Vec<(String, String)> {
    let mut source = EventSource::get(url);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, source.next()).await {
        match event {
            Ok(SseEvent::Open) => {}
            Ok(SseEvent::Message(m)) => seen.push((m.event, m.data)),
            Err(_) => break,
        }
    }
    source.close();
    seen
}

#[tokio::test]
async fn a_ticket_opens_only_its_sites_and_its_stream_ends_when_it_expires() {
    let server =
        TestServer::start_with_org(&org_with_second_site(), &["--ticket-lifetime", "2s"]).await;
    let ann = server.client("ann@contoso.test");
    let http = reqwest::Client::new();
    let events =
        |ticket: &str, extra: &str| format!("{}/v1/events?ticket={ticket}{extra}", server.url);

    let scoped = ann.ticket_for(&["contoso"]).await.unwrap().ticket;
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(events(&scoped, "&site=northwind")).await, 404);
    assert_eq!(status(events(&scoped, "&site=Bad")).await, 400);
    let refused = ann.ticket_for(&["private"]).await.unwrap_err();
    assert_eq!(refused.code(), "not_found", "not Ann's site");

    // The stream shows the ticket's site only, then ends with the ticket, saying why.
    let started = Instant::now();
    let seen = messages_until_closed(&events(&scoped, ""), Duration::from_secs(8)).await;
    assert_eq!(seen.first().map(|m| m.0.as_str()), Some("snapshot"));
    let snapshot: serde_json::Value = serde_json::from_str(&seen[0].1).unwrap();
    let sites: Vec<&str> = snapshot["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(sites, ["contoso"]);
    let last = seen.last().unwrap();
    assert_eq!(last.0, "end", "{seen:?}");
    assert!(last.1.contains("credential_expired"), "{}", last.1);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The expired ticket opens nothing more; a fresh one does.
    assert_eq!(status(events(&scoped, "")).await, 401);
    let fresh = ann.ticket().await.unwrap().ticket;
    let seen = messages_until_closed(&events(&fresh, ""), Duration::from_millis(700)).await;
    let snapshot: serde_json::Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(
        snapshot["sites"].as_array().unwrap().len(),
        2,
        "no body: all sites"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_and_its_streams_end_within_seconds() {
    let server = TestServer::start(&[]).await;
    let bo_token = server.token("bo@contoso.test");
    let bo = copresence_client::Client::new(&server.url, &bo_token).unwrap();
    let bo_other = server.client("bo@contoso.test");
    let ann = server.client("ann@contoso.test");
    bo.put_session("contoso", "t", &at("/")).await.unwrap();
    let mut stream = bo.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut stream).await;
    let ticket = bo.ticket().await.unwrap().ticket;
    let ticket_url = format!("{}/v1/events?ticket={ticket}", server.url);
    let ticket_stream =
        tokio::spawn(
            async move { messages_until_closed(&ticket_url, Duration::from_secs(15)).await },
        );
    // Served from the 10 s cache until now.
    bo.me().await.unwrap();

    // `token list` names both of Bo's tokens; revoking one by its id leaves the other.
    let listed = server.server_command(&["token", "list"], &["--email", "bo@contoso.test"]);
    let ids: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(listed.contains("Bo Chen <bo@contoso.test>"), "{listed}");
    let revoked_at = Instant::now();
    server.server_command(&["token", "revoke"], &["--email", "bo@contoso.test"]);

    assert_eq!(wait_for_fatal(&mut stream, WITHIN).await, "unauthorized");
    let seen = ticket_stream.await.unwrap();
    assert_eq!(seen.last().map(|m| m.0.as_str()), Some("end"), "{seen:?}");
    assert!(revoked_at.elapsed() < WITHIN + Duration::from_secs(1));
    let refused = bo.me().await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused}");
    assert!(bo_other.me().await.unwrap_err().is_unauthorized());
    ann.me().await.expect("others are not touched");

    // One token by its id.
    let carla = server.token("ann@contoso.test");
    let ann_again = copresence_client::Client::new(&server.url, &carla).unwrap();
    let listed = server.server_command(&["token", "list"], &["--email", "ann@contoso.test"]);
    let newest = listed
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    server.server_command(&["token", "revoke"], &["--id", newest]);
    let deadline = Instant::now() + WITHIN;
    while ann_again.me().await.is_ok() {
        assert!(Instant::now() < deadline, "the revoked token still works");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ann.me().await.expect("Ann's other token still works");
}

#[tokio::test]
async fn import_prune_removes_what_the_file_no_longer_lists_with_a_dry_run_first() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    bo.put_session("contoso", "bo-tab", &at("/products"))
        .await
        .unwrap();
    let mut bo_stream = bo.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut bo_stream).await;
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    // Bo is no longer a member, Pricing is gone (and the site takes no pages from its editors,
    // so opening Pricing does not bring it back), and Dee is no longer a user.
    let pruned = ORG
        .replace(
            r#"url = "https://contoso.example""#,
            "url = \"https://contoso.example\"\nopen_pages = false",
        )
        .replace(
            r#"members = ["ann@contoso.test", "bo@contoso.test", "z?o&e#%@contoso.test"]"#,
            r#"members = ["ann@contoso.test", "z?o&e#%@contoso.test"]"#,
        )
        .replace(
            r#"  { path = "/products/pricing", title = "Pricing" },"#,
            "",
        )
        .replace(
            "[[users]]\nemail = \"dee@contoso.test\"\nname = \"<img src=x onerror=alert(1)>\"\nteams = \"a?b&c#d%@x.test\"\n",
            "",
        )
        .replace(r#"members = ["dee@contoso.test"]"#, "members = []");
    assert_ne!(pruned, ORG);
    let file = server.dir.path().join("pruned.toml");
    std::fs::write(&file, &pruned).unwrap();
    let file = file.to_str().unwrap();

    let dry = server.server_command(&["import"], &[file, "--prune", "--dry-run"]);
    assert!(
        dry.contains("would remove member bo@contoso.test of site contoso"),
        "{dry}"
    );
    assert!(
        dry.contains("would remove page /products/pricing of site contoso"),
        "{dry}"
    );
    assert!(dry.contains("would remove user dee@contoso.test"), "{dry}");
    assert!(dry.contains("nothing was changed"), "{dry}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bo.put_session("contoso", "bo-tab", &at("/products/pricing"))
        .await
        .expect("a dry run changes nothing");

    let pruned_at = Instant::now();
    let done = server.server_command(&["import"], &[file, "--prune"]);
    assert!(
        done.contains("removed member bo@contoso.test of site contoso"),
        "{done}"
    );

    // Bo's stream ends and, reconnecting, is refused the site; Ann sees him leave at once
    // rather than after his session's TTL.
    assert_eq!(wait_for_fatal(&mut bo_stream, WITHIN).await, "not_found");
    let left = tokio::time::timeout(WITHIN, async {
        loop {
            if let Event::Leave { user, .. } = next_event(&mut watch, WITHIN).await {
                return user;
            }
        }
    })
    .await
    .expect("Bo leaves within seconds");
    assert_eq!(left.name, "Bo Chen");
    assert!(pruned_at.elapsed() < WITHIN + Duration::from_secs(1));
    let refused = bo
        .put_session("contoso", "bo-tab", &at("/"))
        .await
        .unwrap_err();
    assert!(refused.is_not_found(), "{refused}");
    let gone = ann
        .put_session("contoso", "a", &at("/products/pricing"))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), "unknown_page");
    let site = ann.site("contoso").await.unwrap();
    assert!(site.pages.iter().all(|p| p.path != "/products/pricing"));
    let dee = server.server_command(&["token", "list"], &["--email", "dee@contoso.test"]);
    assert_eq!(dee.trim(), "no tokens");
}

#[tokio::test]
async fn a_revocation_ends_streams_on_every_node() {
    let server = TestServer::cluster(2, &[]).await;
    let token = server.token("bo@contoso.test");
    let mut streams = Vec::new();
    for node in 0..2 {
        let bo = copresence_client::Client::new(server.node_url(node), &token).unwrap();
        let mut stream = bo.subscribe(SubscribeOptions::all_sites());
        first_snapshot(&mut stream).await;
        streams.push(stream);
    }
    let revoked_at = Instant::now();
    server.server_command(&["token", "revoke"], &["--email", "bo@contoso.test"]);
    for stream in &mut streams {
        assert_eq!(wait_for_fatal(stream, WITHIN).await, "unauthorized");
    }
    assert!(revoked_at.elapsed() < WITHIN + Duration::from_secs(1));
}
