//! The client's handling of event data: whatever bytes a server (or anything between) sends on
//! an event stream, the client's SSE parser, its decoding into updates, the live state they are
//! applied to, and the notices the tray derives from them neither panic nor stall.
//!
//! Input: the raw bytes of an event stream.

#![no_main]

use copresence_client::{LiveState, Update};
use copresence_core::notify::{Moment, Notifier, Preferences};
use copresence_core::Event;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // Delivered in two pieces, as a network would: a message may straddle reads.
    let split = input.len() / 2;
    let chunks = vec![
        Ok::<_, std::convert::Infallible>(bytes::Bytes::copy_from_slice(&input[..split])),
        Ok(bytes::Bytes::copy_from_slice(&input[split..])),
    ];
    let messages: Vec<_> = futures::executor::block_on(
        futures::stream::iter(chunks)
            .eventsource()
            .collect::<Vec<_>>(),
    );
    let mut live = LiveState::new();
    let mut notifier = Notifier::new(1);
    let preferences = Preferences::default();
    let mut now = 1_800_000_000_000i64;
    for message in messages.into_iter().flatten() {
        let Some(update) = Update::from_message(&message.event, &message.data) else {
            continue;
        };
        live.apply(&update);
        if let Update::Event(event) = &update {
            now += 1_000;
            notice(&mut notifier, &live, event, &preferences, now);
        }
    }
});

fn notice(
    notifier: &mut Notifier,
    live: &LiveState,
    event: &Event,
    preferences: &Preferences,
    now: i64,
) {
    let Some(site) = event.site().and_then(|site| live.site(site)) else {
        return;
    };
    let at = Moment {
        now,
        local_minute: 600,
    };
    let _ = notifier.notice(event, site, true, preferences, at);
}
