//! The subscription task: sign in with the token, then report every update of the event stream
//! to the model until the task is aborted (new server or token, sign-out, quit). Each report
//! carries the subscription's number, so one that was already on its way when the task was
//! replaced changes nothing.

use std::time::Duration;

use copresence_client::{Backoff, Client, SubscribeOptions};

use crate::inbox::Inbox;
use crate::model::{FeedEvent, Input, REFUSED_TOKEN};

pub async fn run(inbox: Inbox, subscription: u64, server: String, token: String) {
    let report = |event: FeedEvent| {
        inbox.send(Input::Feed {
            subscription,
            event,
        })
    };
    let client = match Client::new(&server, &token) {
        Ok(client) => client,
        Err(error) => return report(FeedEvent::SignedOut(error.to_string())),
    };
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    let me = loop {
        match client.me().await {
            Ok(me) => break me.user,
            Err(error) if error.is_unauthorized() => {
                return report(FeedEvent::SignedOut(REFUSED_TOKEN.into()))
            }
            Err(error) => {
                report(FeedEvent::Offline(error.to_string()));
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    report(FeedEvent::SignedIn(me));
    let mut subscription = client.subscribe(SubscribeOptions::all_sites());
    while let Some(update) = subscription.next().await {
        report(FeedEvent::Update(update));
    }
}
