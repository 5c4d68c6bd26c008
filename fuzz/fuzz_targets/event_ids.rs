//! Event ids: a `Last-Event-ID` (header or `?last_event_id=`) is whatever a client sends back,
//! including what it never received.
//!
//! - Through the router, any id opens the stream (200, an event stream): an id the node cannot
//!   resume from means a snapshot, never a refusal.
//! - The embedded node resumes only from its own ids, and then replays exactly the events after
//!   the id, in order; anything else starts from a snapshot.
//! - The several-node form, `<epoch>-<ms>-<seq>`, is read only as two numbers, and those
//!   numbers are the id again when written back.
//!
//! Input: the first byte says whether the id is prefixed with the node's epoch (ids are random
//! per process, so a fuzzer could never guess one) and how it is sent; the rest is the id.

#![no_main]

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use copresence_core::roster::SessionPut;
use copresence_core::PutSession;
use copresence_fuzz::Node;
use copresence_server::presence::redis::resume_position;
use copresence_server::presence::{FeedStart, Presence};
use libfuzzer_sys::fuzz_target;

/// The node's epoch, after a few events have been published for ids to point into.
fn epoch(node: &Node) -> &'static str {
    static EPOCH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    EPOCH.get_or_init(|| {
        node.runtime.block_on(async {
            let ann = node
                .store
                .user_by_email("ann@contoso.test")
                .await
                .unwrap()
                .unwrap();
            for page in ["/", "/products", "/products/pricing", "/"] {
                let at = PutSession {
                    page: page.into(),
                    client: "fuzz".into(),
                    title: None,
                    url: None,
                };
                node.presence
                    .put_session(
                        "contoso",
                        &ann,
                        "ids",
                        SessionPut::new(&at.page, &at.client),
                    )
                    .await
                    .unwrap();
            }
            let feed = node
                .presence
                .subscribe(&["contoso".into()], None)
                .await
                .unwrap();
            let FeedStart::Snapshot { cursor, .. } = feed.start else {
                panic!("a subscription without an id starts from a snapshot");
            };
            let (epoch, _) = cursor.rsplit_once('-').unwrap();
            epoch.to_owned()
        })
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let node = Node::get();
    let epoch = epoch(node);
    let id = if selector & 1 == 1 {
        format!("{epoch}-{rest}")
    } else {
        rest.to_owned()
    };

    // Over HTTP, as a header or in the query.
    let mut request = Request::builder().header("authorization", format!("Bearer {}", node.ann));
    let uri = if selector & 2 == 2 {
        let Ok(value) = HeaderValue::from_str(&id) else {
            return;
        };
        request = request.header("last-event-id", value);
        "/v1/events?site=contoso".to_owned()
    } else {
        let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        format!("/v1/events?site=contoso&last_event_id={encoded}")
    };
    let answer = node.serve(request.uri(uri).body(Body::empty()).unwrap());
    answer.assert_clear(&format!("resume from {id:?}"));
    assert_eq!(answer.status, 200, "resume from {id:?}");
    assert!(answer.content_type.starts_with("text/event-stream"));

    // The embedded presence: a replay only from one of its own ids, with what came after it.
    let feed = node
        .runtime
        .block_on(node.presence.subscribe(&["contoso".into()], Some(&id)))
        .unwrap();
    if let FeedStart::Replay(events) = feed.start {
        let after: u64 = id
            .strip_prefix(epoch)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|seq| seq.parse().ok())
            .unwrap_or_else(|| panic!("resumed from {id:?}, not an id of epoch {epoch}"));
        let mut previous = after;
        for event in &events {
            assert!(
                event.order.0 > previous,
                "replayed {} after {id:?} out of order",
                event.id
            );
            previous = event.order.0;
        }
    }

    // The several-node form: two numbers, which are the id again when written back.
    if let Some((ms, seq)) = resume_position(epoch, &id) {
        let written = format!("{epoch}-{ms}-{seq}");
        assert_eq!(resume_position(epoch, &written), Some((ms, seq)));
    }
});
