//! The client library's subscription against the real service: resume after a broken
//! connection, and which refusals end a subscription.

use std::time::Duration;

use copresence_client::{Client, SubscribeOptions, Update};
use copresence_core::{Event, PutSession};
use copresence_tests::{first_snapshot, CuttableLink, TestServer};

async fn next(subscription: &mut copresence_client::Subscription) -> Update {
    tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("an update within 10 s")
        .expect("the subscription is open")
}

#[tokio::test]
async fn a_broken_stream_resumes_with_exactly_the_missed_events() {
    let server = TestServer::start(&[]).await;
    let link = CuttableLink::to(&server.url).await;
    let ann = Client::new(&link.url, &server.token("ann@contoso.test")).unwrap();
    let bo = server.client("bo@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::all_sites());
    first_snapshot(&mut watch).await;
    bo.put_session(
        "contoso",
        "t",
        &PutSession {
            page: "/".into(),
            client: "studio".into(),
            title: None,
            url: None,
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        next(&mut watch).await,
        Update::Event(Event::Join { .. })
    ));

    link.cut();
    bo.put_session(
        "contoso",
        "t",
        &PutSession {
            page: "/products".into(),
            client: "studio".into(),
            title: None,
            url: None,
        },
    )
    .await
    .unwrap();

    let mut after_cut = Vec::new();
    loop {
        let update = next(&mut watch).await;
        let done = matches!(update, Update::Event(_) | Update::Snapshot(_));
        after_cut.push(update);
        if done {
            break;
        }
    }
    assert!(
        matches!(after_cut.first(), Some(Update::Disconnected { .. })),
        "the break is reported: {after_cut:?}"
    );
    match after_cut.last() {
        Some(Update::Event(Event::Move { to, .. })) => assert_eq!(to.as_deref(), Some("/products")),
        other => panic!("expected the missed move replayed, not a snapshot: {other:?}"),
    }
    // Nothing is repeated: Bo's join is not sent again.
    let more = tokio::time::timeout(Duration::from_millis(500), watch.next()).await;
    assert!(
        more.is_err(),
        "unexpected update after the resume: {more:?}"
    );
}

#[tokio::test]
async fn a_refused_token_or_unknown_site_ends_the_subscription() {
    let server = TestServer::start(&[]).await;
    let stranger = Client::new(&server.url, "cpt_wrong").unwrap();
    let mut watch = stranger.subscribe(SubscribeOptions::all_sites());
    match next(&mut watch).await {
        Update::Fatal(error) => assert!(error.is_unauthorized(), "{error}"),
        other => panic!("expected a fatal 401, got {other:?}"),
    }
    let ann = server.client("ann@contoso.test");
    let mut watch = ann.subscribe(SubscribeOptions::sites(["private"]));
    match next(&mut watch).await {
        Update::Fatal(error) => assert!(error.is_not_found(), "{error}"),
        other => panic!("expected a fatal 404, got {other:?}"),
    }
    assert!(tokio::time::timeout(Duration::from_secs(2), watch.next())
        .await
        .expect("the subscription ends after a fatal error")
        .is_none());
}
