//! Several nodes of one service on a real PostgreSQL and a real Redis, for real: what one node
//! hears, every node's subscribers see; a client may move between nodes mid-stream; a node or
//! Redis may die and everyone still converges on the truth; nothing acknowledged is lost.

use std::collections::BTreeSet;
use std::time::Duration;

use copresence_client::{Client, LiveState, SubscribeOptions, Update};
use copresence_core::{Event, LeaveReason, PutSession, SaveRequest};
use copresence_tests::{first_snapshot, next_event, open_raw, TestServer};
use reqwest::StatusCode;

const SOON: Duration = Duration::from_secs(5);

fn at(page: &str) -> PutSession {
    PutSession {
        page: page.into(),
        client: "studio".into(),
        title: None,
        url: None,
    }
}

/// A client of one node of the cluster, not the balancer.
fn client_of(server: &TestServer, node: usize, email: &str) -> Client {
    Client::new(server.node_url(node), &server.token(email)).expect("a valid URL")
}

#[tokio::test]
async fn join_move_save_leave_on_one_node_reach_a_subscriber_on_another() {
    let server = TestServer::cluster(2, &[]).await;
    let ann_on_b = client_of(&server, 1, "ann@contoso.test");
    let bo_on_a = client_of(&server, 0, "bo@contoso.test");
    let mut watch = ann_on_b.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;

    bo_on_a
        .put_session("contoso", "t", &at("/products"))
        .await
        .unwrap();
    assert!(
        matches!(next_event(&mut watch, SOON).await, Event::Join { member, .. } if member.user.name == "Bo Chen")
    );
    bo_on_a
        .put_session("contoso", "t", &at("/products/pricing"))
        .await
        .unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Move { to, .. } => assert_eq!(to.as_deref(), Some("/products/pricing")),
        other => panic!("expected a move, got {other:?}"),
    }
    let version = bo_on_a.site("contoso").await.unwrap().version;
    let save = bo_on_a
        .save(
            "contoso",
            &SaveRequest {
                page: "/products/pricing".into(),
                base_version: version,
                force: false,
            },
        )
        .await
        .unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Saved { save: seen, .. } => assert_eq!(seen.version, save.version),
        other => panic!("expected the save, got {other:?}"),
    }
    bo_on_a.delete_session("contoso", "t").await.unwrap();
    match next_event(&mut watch, SOON).await {
        Event::Leave { reason, .. } => assert_eq!(reason, LeaveReason::Left),
        other => panic!("expected the leave, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_moving_to_another_node_resumes_with_nothing_lost_or_repeated() {
    let server = TestServer::cluster(2, &[]).await;
    let ann = client_of(&server, 0, "ann@contoso.test");
    let ticket = ann.ticket().await.unwrap().ticket;
    let bo_on_a = client_of(&server, 0, "bo@contoso.test");
    let bo_on_b = client_of(&server, 1, "bo@contoso.test");

    let on_a = format!("{}/v1/events?ticket={ticket}", server.node_url(0));
    let (source, first) = open_raw(&on_a, None).await;
    assert_eq!(first[0].1, "snapshot");
    bo_on_a.put_session("contoso", "t", &at("/")).await.unwrap();
    drop(source);
    // While the client is between nodes, both nodes hear things.
    bo_on_b
        .put_session("contoso", "t", &at("/products"))
        .await
        .unwrap();
    bo_on_a
        .put_session("contoso", "t", &at("/products/pricing"))
        .await
        .unwrap();
    bo_on_b.delete_session("contoso", "t").await.unwrap();

    let (_source, replayed) = open_raw(&on_a, Some(&first[0].0)).await;
    let names: Vec<&str> = replayed.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["join", "move", "move", "leave"], "on the same node");

    // The same position, resumed on the other node: exactly the same events, same ids.
    let on_b = format!("{}/v1/events?ticket={ticket}", server.node_url(1));
    let (_source, elsewhere) = open_raw(&on_b, Some(&first[0].0)).await;
    assert_eq!(elsewhere, replayed);
    // From the middle, on the other node: only what came after.
    let (_source, tail) = open_raw(&on_b, Some(&replayed[1].0)).await;
    assert_eq!(tail, replayed[2..]);
}

#[tokio::test]
async fn a_killed_nodes_sessions_leave_within_the_ttl_elsewhere() {
    let mut server = TestServer::cluster(2, &["--session-ttl", "2s"]).await;
    let ann_on_b = client_of(&server, 1, "ann@contoso.test");
    let bo_on_a = client_of(&server, 0, "bo@contoso.test");
    let mut watch = ann_on_b.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;
    // Bo's editor holds his session through a stream attached on node A.
    let mut bo_stream = bo_on_a.subscribe(SubscribeOptions {
        sites: vec!["contoso".into()],
        session: Some("editor".into()),
    });
    bo_on_a
        .put_session("contoso", "editor", &at("/"))
        .await
        .unwrap();
    first_snapshot(&mut bo_stream).await;
    assert!(matches!(
        next_event(&mut watch, SOON).await,
        Event::Join { .. }
    ));

    // Past the TTL, the attached session is still there: node A keeps it alive.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!ann_on_b.site("contoso").await.unwrap().members.is_empty());

    server.kill_node(0).await;
    let started = std::time::Instant::now();
    match next_event(&mut watch, Duration::from_secs(6)).await {
        Event::Leave { user, reason, .. } => {
            assert_eq!(user.name, "Bo Chen");
            assert_eq!(reason, LeaveReason::Expired);
        }
        other => panic!("expected Bo to leave, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "left within the TTL"
    );
    assert!(
        ann_on_b.site("contoso").await.unwrap().members.is_empty(),
        "no ghost remains"
    );
}

/// Wait until `watch`'s view of contoso has exactly these people on it.
async fn converge(
    watch: &mut copresence_client::Subscription,
    live: &mut LiveState,
    expected: &BTreeSet<String>,
    within: Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let present: BTreeSet<String> = live
            .site("contoso")
            .map(|s| {
                s.members
                    .members()
                    .iter()
                    .map(|m| m.user.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        if present == *expected {
            return;
        }
        let update = tokio::time::timeout_at(deadline, watch.next())
            .await
            .unwrap_or_else(|_| panic!("never converged on {expected:?}; shows {present:?}"))
            .expect("the subscription is open");
        if let Update::Fatal(error) = &update {
            panic!("the subscription failed: {error}");
        }
        live.apply(&update);
    }
}

#[tokio::test]
async fn after_redis_restarts_every_subscriber_converges_on_the_truth() {
    let mut server = TestServer::cluster(2, &["--session-ttl", "3s"]).await;
    let ann_on_a = client_of(&server, 0, "ann@contoso.test");
    let ann_on_b = client_of(&server, 1, "ann@contoso.test");
    let bo_on_a = client_of(&server, 0, "bo@contoso.test");
    let mut watch_a = ann_on_a.subscribe(SubscribeOptions::all_sites());
    let mut watch_b = ann_on_b.subscribe(SubscribeOptions::all_sites());
    let (mut live_a, mut live_b) = (LiveState::new(), LiveState::new());

    // Bo's editor heartbeats through node A the whole time.
    let heartbeat = tokio::spawn(async move {
        loop {
            let _ = bo_on_a.put_session("contoso", "editor", &at("/")).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let bo = BTreeSet::from(["Bo Chen".to_owned()]);
    converge(&mut watch_a, &mut live_a, &bo, SOON).await;
    converge(&mut watch_b, &mut live_b, &bo, SOON).await;

    server.redis().crash_and_restart();
    // Ann's own editor arrives through node B just after.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ann_editor = client_of(&server, 1, "ann@contoso.test");
    let deadline = tokio::time::Instant::now() + SOON;
    while ann_editor
        .put_session("contoso", "ann-editor", &at("/products"))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node B never took Ann's session"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let both = BTreeSet::from(["Bo Chen".to_owned(), "Ann Lee".to_owned()]);
    converge(&mut watch_a, &mut live_a, &both, Duration::from_secs(8)).await;
    converge(&mut watch_b, &mut live_b, &both, Duration::from_secs(8)).await;
    heartbeat.abort();
}

#[tokio::test]
async fn every_acknowledged_save_survives_a_node_killed_mid_burst() {
    let mut server = TestServer::cluster(2, &[]).await;
    let savers = [
        client_of(&server, 0, "ann@contoso.test"),
        client_of(&server, 1, "bo@contoso.test"),
    ];
    let mut acknowledged = Vec::new();
    for round in 0..40 {
        if round == 20 {
            server.kill_node(0).await;
        }
        for saver in &savers {
            let request = SaveRequest {
                page: "/".into(),
                base_version: 0,
                force: true,
            };
            if let Ok(save) = saver.save("contoso", &request).await {
                acknowledged.push(save.version);
            }
        }
    }
    assert!(
        acknowledged.len() >= 60,
        "most saves went through: {}",
        acknowledged.len()
    );
    let reader = client_of(&server, 1, "ann@contoso.test");
    let recorded: BTreeSet<i64> = reader
        .saves("contoso", Some(500))
        .await
        .unwrap()
        .iter()
        .map(|save| save.version)
        .collect();
    for version in &acknowledged {
        assert!(
            recorded.contains(version),
            "save {version} was acknowledged but is not in the history"
        );
    }
}

#[tokio::test]
async fn while_postgres_is_away_reads_and_presence_go_on_and_writes_say_503() {
    let mut server = TestServer::cluster(2, &[]).await;
    let ann = client_of(&server, 0, "ann@contoso.test");
    let bo_token = server.token("bo@contoso.test");
    let bo = Client::new(server.node_url(1), &bo_token).unwrap();
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;
    bo.put_session("contoso", "t", &at("/")).await.unwrap();
    next_event(&mut watch, SOON).await;
    assert_eq!(ann.sites().await.unwrap().len(), 1);

    server.postgres().stop();
    // Presence goes on: Bo moves, Ann sees it.
    bo.put_session("contoso", "t", &at("/products"))
        .await
        .unwrap();
    assert!(matches!(
        next_event(&mut watch, SOON).await,
        Event::Move { .. }
    ));
    // Reads go on.
    assert_eq!(ann.sites().await.unwrap().len(), 1);
    // A write is refused clearly, to be retried.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/sites/contoso/saves", server.node_url(1)))
        .bearer_auth(&bo_token)
        .json(&serde_json::json!({ "page": "/", "base_version": 0, "force": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));

    server.postgres().resume();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let request = SaveRequest {
        page: "/".into(),
        base_version: 0,
        force: true,
    };
    while bo.save("contoso", &request).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "saves never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_resume_from_before_what_the_stream_trimmed_gets_a_snapshot() {
    // A replay buffer of one: Redis trims the shared stream as it goes (in whole blocks).
    let server = TestServer::cluster(2, &["--replay-buffer", "1"]).await;
    let ann = client_of(&server, 0, "ann@contoso.test");
    let ticket = ann.ticket().await.unwrap().ticket;
    let bo = client_of(&server, 1, "bo@contoso.test");
    let on_b = format!("{}/v1/events?ticket={ticket}", server.node_url(1));

    bo.put_session("contoso", "t", &at("/")).await.unwrap();
    let (source, first) = open_raw(&on_b, None).await;
    drop(source);
    let pages = ["/", "/products", "/products/pricing"];
    for i in 0..400 {
        bo.put_session("contoso", "t", &at(pages[i % pages.len()]))
            .await
            .unwrap();
    }
    let (_source, resumed) = open_raw(&on_b, Some(&first[0].0)).await;
    assert_eq!(
        resumed.first().map(|(_, name)| name.as_str()),
        Some("snapshot"),
        "a resume that would lose trimmed events starts over"
    );
    assert_eq!(resumed.len(), 1);
}
