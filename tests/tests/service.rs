//! The presence service end to end: the real server binary on loopback, a real SQLite file, and
//! the client library on the other side, asserting what a second user would see.

use std::time::Duration;

use copresence_client::{LiveState, SubscribeOptions, Update};
use copresence_core::{Event, LeaveReason, Page, PutSession, SaveRequest};
use copresence_tests::{events_within, first_snapshot, next_event, open_raw, TestServer, ORG};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest_eventsource::{Event as SseEvent, EventSource};

const SOON: Duration = Duration::from_secs(5);

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: None,
    }
}

/// A session on `page` with its title, for a page the site may not have yet.
fn titled(page: &str, title: &str) -> PutSession {
    PutSession {
        title: Some(title.into()),
        ..at(page)
    }
}

fn paths(pages: &[Page]) -> Vec<&str> {
    pages.iter().map(|p| p.path.as_str()).collect()
}

#[tokio::test]
async fn join_move_save_leave_reach_another_users_stream() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    let snapshot = first_snapshot(&mut watch).await;
    assert_eq!(snapshot.len(), 1, "Ann sees only her site");
    assert!(snapshot[0].members.is_empty());

    bo.put_session("contoso", "tab-1", &at("/products"))
        .await
        .unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Join { site, member, .. } => {
            assert_eq!(site, "contoso");
            assert_eq!(member.user.name, "Bo Chen");
            assert_eq!(member.sessions[0].page, "/products");
            assert_eq!(member.sessions[0].client, "studio");
        }
        other => panic!("expected Bo's join, got {other:?}"),
    }

    // A heartbeat is silent; a page change is a move, never a leave and a join.
    bo.put_session("contoso", "tab-1", &at("/products"))
        .await
        .unwrap();
    bo.put_session("contoso", "tab-1", &at("/products/pricing"))
        .await
        .unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Move {
            from, to, member, ..
        } => {
            assert_eq!(from.as_deref(), Some("/products"));
            assert_eq!(to.as_deref(), Some("/products/pricing"));
            assert_eq!(member.user.name, "Bo Chen");
        }
        other => panic!("expected a move, got {other:?}"),
    }

    let save = SaveRequest {
        page: "/products/pricing".into(),
        base_version: 0,
        force: false,
    };
    let saved = bo.save("contoso", &save).await.unwrap();
    assert_eq!(saved.version, 1);
    match next_event(&mut watch, SOON).await {
        Event::Saved { save, .. } => {
            assert_eq!(save.version, 1);
            assert_eq!(save.user.name, "Bo Chen");
            assert_eq!(save.page, "/products/pricing");
        }
        other => panic!("expected a save, got {other:?}"),
    }

    bo.delete_session("contoso", "tab-1").await.unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Leave { user, reason, .. } => {
            assert_eq!(user.name, "Bo Chen");
            assert_eq!(reason, LeaveReason::Left);
        }
        other => panic!("expected a leave, got {other:?}"),
    }

    let site = ann.site("contoso").await.unwrap();
    assert!(site.members.is_empty());
    assert_eq!(site.version, 1);
    assert_eq!(site.last_save.unwrap().user.name, "Bo Chen");
}

#[tokio::test]
async fn two_tabs_are_one_person() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    bo.put_session("contoso", "a", &at("/")).await.unwrap();
    bo.put_session("contoso", "b", &at("/products"))
        .await
        .unwrap();
    bo.delete_session("contoso", "a").await.unwrap();
    let events = events_within(&mut watch, Duration::from_millis(800)).await;
    let names: Vec<&str> = events.iter().map(Event::name).collect();
    assert_eq!(names, ["join", "move", "move"], "{events:?}");
    let sites = ann.sites().await.unwrap();
    assert_eq!(sites[0].online.len(), 1);
    assert_eq!(sites[0].online[0].sessions[0].page, "/products");
}

#[tokio::test]
async fn silent_session_expires_after_the_ttl() {
    let server = TestServer::start(&["--session-ttl", "1s"]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;
    let state = bo.put_session("contoso", "t", &at("/")).await.unwrap();
    assert_eq!(state.ttl_ms, 1000);
    assert!(matches!(
        next_event(&mut watch, SOON).await,
        Event::Join { .. }
    ));
    match next_event(&mut watch, SOON).await {
        Event::Leave { reason, user, .. } => {
            assert_eq!(reason, LeaveReason::Expired);
            assert_eq!(user.name, "Bo Chen");
        }
        other => panic!("expected an expiry, got {other:?}"),
    }
    assert!(ann.sites().await.unwrap()[0].online.is_empty(), "no ghost");
}

#[tokio::test]
async fn reconnect_inside_the_grace_does_not_flap_and_a_dropped_stream_leaves() {
    let server = TestServer::start(&["--reconnect-grace", "1500ms"]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;

    bo.put_session("contoso", "tab", &at("/")).await.unwrap();
    let options = SubscribeOptions::sites(["contoso"]).with_session("tab");
    let mut bo_stream = bo.subscribe(options.clone());
    first_snapshot(&mut bo_stream).await;
    assert!(matches!(
        next_event(&mut watch, SOON).await,
        Event::Join { .. }
    ));

    // Bo's connection drops and comes back within the grace: nobody sees anything.
    drop(bo_stream);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bo_stream = bo.subscribe(options);
    first_snapshot(&mut bo_stream).await;
    let seen = events_within(&mut watch, Duration::from_millis(2500)).await;
    assert!(
        seen.is_empty(),
        "a reconnect inside the grace flapped: {seen:?}"
    );

    // Now it drops for good: Bo leaves after the grace, long before the 45 s TTL.
    drop(bo_stream);
    match next_event(&mut watch, SOON).await {
        Event::Leave { user, reason, .. } => {
            assert_eq!(user.name, "Bo Chen");
            assert_eq!(reason, LeaveReason::Expired);
        }
        other => panic!("expected Bo to leave, got {other:?}"),
    }
}

#[tokio::test]
async fn resume_with_last_event_id_replays_exactly_what_was_missed() {
    let server = TestServer::start(&[]).await;
    let ticket = server
        .client("ann@contoso.test")
        .ticket()
        .await
        .unwrap()
        .ticket;
    let bo = server.client("bo@contoso.test");
    let url = format!("{}/v1/events?ticket={ticket}", server.url);

    let (source, first) = open_raw(&url, None).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, "snapshot");
    let cursor = first[0].0.clone();
    drop(source);

    bo.put_session("contoso", "t", &at("/")).await.unwrap();
    bo.put_session("contoso", "t", &at("/products"))
        .await
        .unwrap();
    bo.delete_session("contoso", "t").await.unwrap();

    let (_source, replayed) = open_raw(&url, Some(&cursor)).await;
    let names: Vec<&str> = replayed.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(
        names,
        ["join", "move", "leave"],
        "nothing lost, nothing repeated"
    );

    // Resuming from the middle replays only what came after it.
    let (_source, tail) = open_raw(&url, Some(&replayed[0].0)).await;
    let names: Vec<&str> = tail.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["move", "leave"]);

    // The query parameter works like the header; an id it cannot resume from gets a snapshot.
    let (_source, by_query) = open_raw(&format!("{url}&last_event_id={cursor}"), None).await;
    assert_eq!(by_query.len(), 3);
    let (_source, unknown) = open_raw(&url, Some("0000-99")).await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].1, "snapshot");
}

#[tokio::test]
async fn resume_after_a_restart_is_a_snapshot_alone_and_goes_on_in_a_cluster() {
    let mut server = TestServer::start(&[]).await;
    let bo = server.client("bo@contoso.test");
    let token = server.token("ann@contoso.test");
    let url = format!("{}/v1/events", server.url);
    let request = reqwest::Client::new().get(&url).bearer_auth(&token);
    let mut source = EventSource::new(request).unwrap();
    let cursor = loop {
        if let Some(Ok(SseEvent::Message(m))) = source.next().await {
            break m.id;
        }
    };
    drop(source);
    server.restart().await;
    bo.put_session("contoso", "t", &at("/")).await.unwrap();
    let request = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&token)
        .header("Last-Event-ID", cursor);
    let mut source = EventSource::new(request).unwrap();
    let first = loop {
        if let Some(Ok(SseEvent::Message(m))) = source.next().await {
            break m.event;
        }
    };
    if server.is_cluster() {
        // Live presence outlives every node (it is in Redis): the resume simply goes on.
        assert_eq!(first, "join");
    } else {
        // The restarted process knows nothing of the old feed.
        assert_eq!(first, "snapshot");
    }
}

#[tokio::test]
async fn stale_save_conflicts_and_force_overwrites() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let save = |base, force| SaveRequest {
        page: "/products".into(),
        base_version: base,
        force,
    };
    assert_eq!(
        bo.save("contoso", &save(0, false)).await.unwrap().version,
        1
    );
    let conflict = ann.save("contoso", &save(0, false)).await.unwrap_err();
    assert_eq!(conflict.status(), Some(409));
    let (current, last) = conflict.stale_version().expect("a stale_version conflict");
    assert_eq!(current, 1);
    assert_eq!(last.expect("who saved last").user.name, "Bo Chen");

    let forced = ann.save("contoso", &save(0, true)).await.unwrap();
    assert_eq!(forced.version, 2);
    assert!(forced.forced);
    let on_top = ann.save("contoso", &save(2, true)).await.unwrap();
    assert!(
        !on_top.forced,
        "force on the current version overwrites nothing"
    );

    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.version, 3);
    assert_eq!(site.first_save.unwrap().user.name, "Bo Chen");
    assert_eq!(site.last_save.unwrap().user.name, "Ann Lee");
}

async fn error_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("errors are JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("an error code")
        .to_owned();
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    (status, code)
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_lose_nothing() {
    let server = TestServer::start(&[]).await;
    let token = server.token("ann@contoso.test");
    let ann = server.client("ann@contoso.test");
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let session = url("/v1/sites/contoso/sessions/tab");

    // Something stored first, to check nothing is lost.
    ann.put_session("contoso", "tab", &at("/products"))
        .await
        .unwrap();
    let save = SaveRequest {
        page: "/".into(),
        base_version: 0,
        force: false,
    };
    ann.save("contoso", &save).await.unwrap();

    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            http.get(url("/v1/me")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            http.get(url("/v1/me")).bearer_auth("cpt_not-a-token"),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            http.get(url("/v1/sites/private")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.get(url("/v1/sites/nowhere")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.get(url("/v1/events?site=private")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.get(url("/v1/users/999")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{\"page\": \"/\", "),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("[1, 2]"),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!("{{\"page\": \"/{}\"}}", "x".repeat(70 * 1024))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            http.post(url("/v1/sites/contoso/saves"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/nope", "base_version": 1})),
            StatusCode::BAD_REQUEST,
            "unknown_page",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/fresh", "title": "two\nlines"})),
            StatusCode::BAD_REQUEST,
            "invalid_title",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/fresh", "title": "t".repeat(201)})),
            StatusCode::BAD_REQUEST,
            "invalid_title",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/fresh", "title": 7})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            http.put(&session)
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/", "client": "c".repeat(65)})),
            StatusCode::BAD_REQUEST,
            "invalid_client",
        ),
        (
            http.put(url("/v1/sites/contoso/sessions/a%20b"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/"})),
            StatusCode::BAD_REQUEST,
            "invalid_session_id",
        ),
        (
            http.put(url("/v1/sites/private/sessions/tab"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.post(url("/v1/sites/contoso/saves"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"page": "/", "base_version": "one"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            http.get(url("/v1/nothing-here")).bearer_auth(&token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            http.patch(url("/v1/me")).bearer_auth(&token),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url());
        let response = http.execute(request).await.unwrap();
        assert_eq!(
            error_code(response).await,
            (status, code.to_owned()),
            "{what}"
        );
    }

    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.version, 1, "the save survived");
    assert!(
        site.pages
            .iter()
            .all(|p| p.path != "/fresh" && p.path != "/nope"),
        "no page was added: {:?}",
        site.pages
    );
    let me = site
        .members
        .member(ann.me().await.unwrap().user.id)
        .expect("still present");
    assert_eq!(me.sessions[0].page, "/products", "the session is unchanged");
}

#[tokio::test]
async fn hostile_names_and_addresses_come_back_as_given() {
    let server = TestServer::start(&[]).await;
    let dee = server.client("dee@contoso.test");
    let me = dee.me().await.unwrap().user;
    assert_eq!(me.name, "<img src=x onerror=alert(1)>");
    assert_eq!(me.teams.as_deref(), Some("a?b&c#d%@x.test"));
    // Dee and Ann share no site: Ann cannot look her up.
    let ann = server.client("ann@contoso.test");
    assert!(ann.user(me.id).await.unwrap_err().is_not_found());
    assert_eq!(dee.user(me.id).await.unwrap(), me);
}

#[tokio::test]
async fn tickets_open_the_event_stream_only_and_expire() {
    let server = TestServer::start(&["--ticket-lifetime", "2s"]).await;
    let ann = server.client("ann@contoso.test");
    let ticket = ann.ticket().await.unwrap();
    let http = reqwest::Client::new();
    let events = format!("{}/v1/events?ticket={}", server.url, ticket.ticket);
    let response = http.get(&events).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    drop(response);

    let as_bearer = http
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&ticket.ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
    let as_query = http
        .get(format!("{}/v1/me?ticket={}", server.url, ticket.ticket))
        .send()
        .await
        .unwrap();
    assert_eq!(as_query.status(), StatusCode::UNAUTHORIZED);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let expired = http.get(&events).send().await.unwrap();
    assert_eq!(error_code(expired).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let server = TestServer::start(&["--allow-origin", "https://studio.example"]).await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/events", server.url),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "last-event-id")
        .send()
    };
    let allowed = preflight("https://studio.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://studio.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn a_restart_keeps_users_tokens_and_save_history() {
    let mut server = TestServer::start(&[]).await;
    let token = server.token("bo@contoso.test");
    let bo = copresence_client::Client::new(&server.url, &token).unwrap();
    for base in 0..3 {
        let save = SaveRequest {
            page: "/products/pricing".into(),
            base_version: base,
            force: false,
        };
        bo.save("contoso", &save).await.unwrap();
    }
    server.restart().await;
    let bo = copresence_client::Client::new(&server.url, &token).unwrap();
    assert_eq!(
        bo.me().await.unwrap().user.name,
        "Bo Chen",
        "the token still works"
    );
    let site = bo.site("contoso").await.unwrap();
    assert_eq!(site.version, 3);
    assert_eq!(site.first_save.unwrap().version, 1);
    let versions: Vec<i64> = bo
        .saves("contoso", None)
        .await
        .unwrap()
        .iter()
        .map(|save| save.version)
        .collect();
    assert_eq!(versions, [3, 2, 1]);
}

#[tokio::test]
async fn a_vanished_server_is_reported_and_the_subscription_recovers() {
    let mut server = TestServer::start(&[]).await;
    let token = server.token("ann@contoso.test");
    let ann = copresence_client::Client::new(&server.url, &token).unwrap();
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;
    server.stop().await;
    let lost = tokio::time::timeout(SOON, async {
        loop {
            if let Some(Update::Disconnected { .. }) = watch.next().await {
                break;
            }
        }
    })
    .await;
    assert!(lost.is_ok(), "the subscriber is told the server is gone");

    server.restart().await;
    if server.is_cluster() {
        // Presence outlived the nodes: the subscription resumes where it was, no snapshot.
        let bo = server.client("bo@contoso.test");
        bo.put_session("contoso", "t", &at("/")).await.unwrap();
        let event = next_event(&mut watch, Duration::from_secs(15)).await;
        assert!(matches!(event, Event::Join { .. }), "got {event:?}");
    } else {
        let sites = tokio::time::timeout(Duration::from_secs(15), first_snapshot(&mut watch))
            .await
            .expect("the subscription reconnects by itself once the server is back");
        assert_eq!(sites[0].site.id, "contoso");
    }
}

#[tokio::test]
async fn a_page_an_editor_opens_joins_the_tree_of_everyone_on_the_site() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    let mut live = LiveState::new();
    live.replace(first_snapshot(&mut watch).await);

    let joined = bo
        .put_session(
            "contoso",
            "tab",
            &titled("/products/compare", "Compare plans"),
        )
        .await
        .expect("a page the site does not have yet is added as it is opened");
    assert_eq!(joined.session.page, "/products/compare");
    let events = events_within(&mut watch, Duration::from_millis(1500)).await;
    let names: Vec<&str> = events.iter().map(Event::name).collect();
    assert_eq!(
        names,
        ["pages", "join"],
        "the page first, then who is on it"
    );
    match &events[0] {
        Event::Pages { site, added, .. } => {
            assert_eq!(site, "contoso");
            assert_eq!(
                added,
                &[Page {
                    path: "/products/compare".into(),
                    title: "Compare plans".into(),
                }]
            );
        }
        other => panic!("expected the new page, got {other:?}"),
    }
    for event in &events {
        live.apply_event(event);
    }
    let held = live.site("contoso").unwrap();
    assert_eq!(
        paths(&held.pages),
        ["/", "/products", "/products/compare", "/products/pricing"],
        "in place in the tree"
    );

    // Opening it again, or under another title, adds nothing and says nothing.
    ann.put_session(
        "contoso",
        "a",
        &titled("/products/compare", "Another title"),
    )
    .await
    .unwrap();
    let again = events_within(&mut watch, Duration::from_millis(800)).await;
    let names: Vec<&str> = again.iter().map(Event::name).collect();
    assert_eq!(names, ["join"], "{again:?}");

    // A fresh snapshot (on any node) and the site's state have it, as the stream left it.
    let mut fresh = bo.subscribe(SubscribeOptions::sites(["contoso"]));
    let snapshot = first_snapshot(&mut fresh).await;
    assert_eq!(snapshot[0].pages, held.pages);
    assert_eq!(ann.site("contoso").await.unwrap().pages, held.pages);

    // Without a title, a page is named by its path.
    bo.put_session("contoso", "tab", &at("/blog"))
        .await
        .unwrap();
    let site = bo.site("contoso").await.unwrap();
    let blog = site.pages.iter().find(|p| p.path == "/blog").unwrap();
    assert_eq!(
        copresence_core::pages::title_of(&site.pages, &blog.path),
        "/blog"
    );
}

#[tokio::test]
async fn a_site_closed_to_its_editors_refuses_pages_it_does_not_have() {
    let org = ORG.replace(
        r#"url = "https://contoso.example""#,
        "url = \"https://contoso.example\"\nopen_pages = false",
    );
    let server = TestServer::start_with_org(&org, &[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    let before = first_snapshot(&mut watch).await;

    let refused = bo
        .put_session("contoso", "tab", &titled("/new", "New"))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(400), "unknown_page")
    );
    assert!(
        events_within(&mut watch, Duration::from_millis(800))
            .await
            .is_empty(),
        "nothing to announce"
    );
    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.pages, before[0].pages);
    assert!(site.members.is_empty(), "no session was opened");
    bo.put_session("contoso", "tab", &at("/products"))
        .await
        .expect("a page it lists is opened as ever");
}

#[tokio::test]
async fn pages_past_a_cap_are_refused_and_nothing_is_lost() {
    // Contoso lists three pages: with Bo's two and one of Ann's it holds six, its most.
    let server =
        TestServer::start(&["--max-pages-per-user", "2", "--max-pages-per-site", "6"]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    for page in ["/a", "/b"] {
        bo.put_session("contoso", "tab", &at(page)).await.unwrap();
    }
    let refused = bo
        .put_session("contoso", "tab", &at("/c"))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(400), "too_many_pages")
    );
    ann.put_session("contoso", "a", &at("/c"))
        .await
        .expect("the cap is per user");
    let full = ann
        .put_session("contoso", "a", &at("/d"))
        .await
        .unwrap_err();
    assert_eq!(full.code(), "too_many_pages");

    let site = ann.site("contoso").await.unwrap();
    assert_eq!(
        paths(&site.pages),
        ["/", "/a", "/b", "/c", "/products", "/products/pricing"]
    );
    let bos = site
        .members
        .members()
        .iter()
        .find(|m| m.user.name == "Bo Chen");
    assert_eq!(
        bos.unwrap().sessions[0].page,
        "/b",
        "a refused move leaves the session where it was"
    );
    bo.put_session("contoso", "tab", &at("/a"))
        .await
        .expect("pages the site has are opened as ever");
}

#[tokio::test]
async fn editors_opening_one_new_page_at_once_add_it_once() {
    let server = TestServer::start(&[]).await;
    let ann = server.client("ann@contoso.test");
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["contoso"]));
    first_snapshot(&mut watch).await;

    let opening = (0..8).map(|i| {
        let (client, who) = if i % 2 == 0 { (&ann, "a") } else { (&bo, "b") };
        let session = format!("{who}{i}");
        async move {
            client
                .put_session("contoso", &session, &titled("/launch", "Launch"))
                .await
        }
    });
    for opened in futures_util::future::join_all(opening).await {
        opened.expect("every editor opens the page");
    }
    let events = events_within(&mut watch, Duration::from_millis(1500)).await;
    let added: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Pages { .. }))
        .collect();
    assert_eq!(added.len(), 1, "one page, announced once: {events:?}");
    let site = ann.site("contoso").await.unwrap();
    assert_eq!(site.pages.iter().filter(|p| p.path == "/launch").count(), 1);
    assert_eq!(site.members.session_count(), 8);
}

#[tokio::test]
async fn a_resumed_stream_replays_the_pages_it_missed() {
    let server = TestServer::start(&[]).await;
    let ticket = server
        .client("ann@contoso.test")
        .ticket()
        .await
        .unwrap()
        .ticket;
    let bo = server.client("bo@contoso.test");
    let url = format!("{}/v1/events?ticket={ticket}", server.url);
    let (source, first) = open_raw(&url, None).await;
    assert_eq!(first.len(), 1);
    let cursor = first[0].0.clone();
    drop(source);

    bo.put_session("contoso", "t", &titled("/missed", "Missed"))
        .await
        .unwrap();

    let (_source, replayed) = open_raw(&url, Some(&cursor)).await;
    let names: Vec<&str> = replayed.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["pages", "join"]);
}
