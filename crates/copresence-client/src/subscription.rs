//! The event stream (`GET /v1/events`), kept open for as long as the caller holds it.
//!
//! A spawned task owns the connection. It opens one `EventSource` per connection with its
//! internal retries off, and reconnects from its own loop with [`Backoff`], sending the last
//! event id it received as `Last-Event-ID` so the server replays what was missed (or, when it
//! cannot, sends a fresh snapshot). Every transport failure, server error or closed stream is
//! retried forever; only an answer that will not change by retrying (401, 404, other 4xx) ends
//! the stream, with [`Update::Fatal`].

use std::fmt;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use copresence_core::{Event, SiteState, EVENT_NAMES};
use futures_util::{Stream, StreamExt};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use reqwest_eventsource::retry::Never;
use reqwest_eventsource::{Event as SseEvent, EventSource};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

use crate::backoff::Backoff;
use crate::client::{Client, REQUEST_TIMEOUT};
use crate::error::{describe_transport, is_retryable_status, Error};

/// How many updates may wait for the caller. When the caller falls this far behind, the task
/// stops reading the connection; the server then notices and sends a snapshot later.
const CHANNEL_CAPACITY: usize = 64;

/// The longest `Retry-After` honoured: a confused proxy must not silence a client for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// What to subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// The sites to watch; empty means every site the caller is a member of.
    pub sites: Vec<String>,
    /// One of the caller's sessions to attach to the stream: it stays present while the stream
    /// is open, and leaves shortly after the stream drops for good.
    pub session: Option<String>,
}

impl SubscribeOptions {
    /// Every site the caller is a member of, no session attached.
    pub fn all_sites() -> Self {
        SubscribeOptions::default()
    }

    /// These sites only.
    pub fn sites<I, S>(sites: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SubscribeOptions {
            sites: sites.into_iter().map(Into::into).collect(),
            session: None,
        }
    }

    /// Attach one of the caller's sessions to the stream.
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }
}

/// One thing that happened on a subscription.
#[derive(Debug)]
pub enum Update {
    /// The stream is open. A [`Update::Snapshot`] or the replay of missed events follows.
    Connected,
    /// The whole state of every subscribed site: replaces whatever the caller held.
    Snapshot(Vec<SiteState>),
    /// A join, move, leave or saved: apply it with [`SiteState::apply`] (or
    /// [`LiveState::apply`](crate::LiveState::apply)).
    Event(Event),
    /// The stream was lost or could not be opened; the subscription tries again in `retry_in`.
    Disconnected { error: String, retry_in: Duration },
    /// The server refused the stream for good (401, 404, …). Nothing follows.
    Fatal(Error),
}

/// A live event stream. Read it with [`Subscription::next`] or as a [`Stream`]; drop it to close
/// the connection.
pub struct Subscription {
    updates: mpsc::Receiver<Update>,
    task: JoinHandle<()>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("finished", &self.task.is_finished())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(crate) fn start(client: Client, options: SubscribeOptions) -> Subscription {
        let (sender, updates) = mpsc::channel(CHANNEL_CAPACITY);
        let task = tokio::spawn(run(client, options, sender));
        Subscription { updates, task }
    }

    /// The next update; `None` once the stream has ended (after [`Update::Fatal`]).
    pub async fn next(&mut self) -> Option<Update> {
        self.updates.recv().await
    }
}

impl Stream for Subscription {
    type Item = Update;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        self.updates.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How one connection ended.
enum Outcome {
    /// The caller is gone.
    Stop,
    /// Try again after a backoff (and no sooner than `retry_after`).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Give up.
    Fatal(Error),
}

/// The reconnect loop.
async fn run(client: Client, options: SubscribeOptions, updates: mpsc::Sender<Update>) {
    let url = match events_url(&client, &options) {
        Ok(url) => url,
        Err(error) => {
            let _ = updates.send(Update::Fatal(error)).await;
            return;
        }
    };
    let mut last_id: Option<String> = None;
    let mut backoff = Backoff::default();
    loop {
        match connect_once(&client, &url, &mut last_id, &mut backoff, &updates).await {
            Outcome::Stop => return,
            Outcome::Fatal(error) => {
                let _ = updates.send(Update::Fatal(error)).await;
                return;
            }
            Outcome::Retry { error, retry_after } => {
                let mut retry_in = backoff.next_delay();
                if let Some(asked) = retry_after {
                    retry_in = retry_in.max(asked.min(MAX_RETRY_AFTER));
                }
                tracing::debug!(%error, ?retry_in, "event stream lost");
                if updates
                    .send(Update::Disconnected { error, retry_in })
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(retry_in).await;
            }
        }
    }
}

/// `…/v1/events?site=a&site=b&session=s`.
fn events_url(client: &Client, options: &SubscribeOptions) -> Result<Url, Error> {
    let mut url = client.url(&["v1", "events"])?;
    if !options.sites.is_empty() || options.session.is_some() {
        let mut query = url.query_pairs_mut();
        for site in &options.sites {
            query.append_pair("site", site);
        }
        if let Some(session) = &options.session {
            query.append_pair("session", session);
        }
    }
    Ok(url)
}

/// Open one connection and forward its events until it ends.
async fn connect_once(
    client: &Client,
    url: &Url,
    last_id: &mut Option<String>,
    backoff: &mut Backoff,
    updates: &mpsc::Sender<Update>,
) -> Outcome {
    // No total timeout on this request (the stream is meant to last); the client's connect and
    // read timeouts still apply.
    // Asked again at every connection: a renewed sign-in gives the token good now, so a
    // stream the service ended with its expired token comes back with a fresh one.
    let authorization = match client.authorization().await {
        Ok(header) => header,
        Err(error) if error.is_unauthorized() => return Outcome::Fatal(error),
        Err(error) => {
            return Outcome::Retry {
                error: error.to_string(),
                retry_after: None,
            }
        }
    };
    let mut request = client
        .http
        .get(url.clone())
        .header(AUTHORIZATION, authorization);
    if let Some(id) = last_id.as_deref() {
        match HeaderValue::from_str(id) {
            Ok(value) => request = request.header(LAST_EVENT_ID.clone(), value),
            Err(_) => {
                tracing::warn!("dropping an event id that cannot be sent back as Last-Event-ID");
                *last_id = None;
            }
        }
    }
    let mut source = match EventSource::new(request) {
        Ok(source) => source,
        Err(error) => {
            return Outcome::Fatal(Error::InvalidUrl {
                url: url.to_string(),
                reason: error.to_string(),
            })
        }
    };
    // Reconnecting is this module's job: the internal policy would give up on any non-200.
    source.set_retry_policy(Box::new(Never));
    let mut source = pin!(source);

    while let Some(item) = source.next().await {
        let update = match item {
            Ok(SseEvent::Open) => {
                backoff.reset();
                Some(Update::Connected)
            }
            Ok(SseEvent::Message(message)) => {
                if !message.id.is_empty() {
                    *last_id = Some(message.id);
                }
                Update::from_message(&message.event, &message.data)
            }
            Err(error) => return classify(error).await,
        };
        if let Some(update) = update {
            if updates.send(update).await.is_err() {
                return Outcome::Stop;
            }
        }
    }
    // With retries off the source reports an error before it ends; this is the same thing.
    Outcome::Retry {
        error: "the server closed the stream".into(),
        retry_after: None,
    }
}

/// Decide what a failed connection means: retry or give up.
async fn classify(error: reqwest_eventsource::Error) -> Outcome {
    use reqwest_eventsource::Error as E;
    match error {
        E::InvalidStatusCode(status, response) => {
            let code = status.as_u16();
            let error = tokio::time::timeout(REQUEST_TIMEOUT, Error::from_response(response))
                .await
                .unwrap_or_else(|_| Error::from_parts(code, None, b""));
            if status.is_client_error() && !is_retryable_status(code) {
                Outcome::Fatal(error)
            } else {
                Outcome::Retry {
                    retry_after: error.retry_after(),
                    error: error.to_string(),
                }
            }
        }
        E::InvalidContentType(content_type, _) => Outcome::Retry {
            error: format!(
                "the server did not answer with an event stream (content type {content_type:?})"
            ),
            retry_after: None,
        },
        E::Transport(error) => Outcome::Retry {
            error: describe_transport(&error),
            retry_after: None,
        },
        E::StreamEnded => Outcome::Retry {
            error: "the server closed the stream".into(),
            retry_after: None,
        },
        other => Outcome::Retry {
            error: format!("malformed event stream: {other}"),
            retry_after: None,
        },
    }
}

impl Update {
    /// One SSE message (its `event:` name and `data:`) as an update; `None` for what is to be
    /// skipped (unknown event names, data that does not decode). Whatever a server sends, this
    /// decides without panicking: the `client_events` fuzz target holds it to that.
    pub fn from_message(name: &str, data: &str) -> Option<Update> {
        // Any other name is ignored, for forward compatibility.
        if !EVENT_NAMES.contains(&name) {
            tracing::debug!(event = name, "ignoring an event of an unknown kind");
            return None;
        }
        match serde_json::from_str::<Event>(data) {
            Ok(Event::Snapshot { sites }) => Some(Update::Snapshot(sites)),
            Ok(event) => {
                if event.name() != name {
                    tracing::debug!(
                        event = name,
                        data_type = event.name(),
                        "event name and type differ"
                    );
                }
                Some(Update::Event(event))
            }
            Err(error) => {
                tracing::warn!(event = name, %error, "skipping an event that could not be decoded");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_url_repeats_site_and_encodes_values() {
        let client = Client::new("http://h.test/base/", "tok").unwrap();
        let url = events_url(&client, &SubscribeOptions::all_sites()).unwrap();
        assert_eq!(url.as_str(), "http://h.test/base/v1/events");
        let options = SubscribeOptions::sites(["a", "b&c"]).with_session("tab 1");
        let url = events_url(&client, &options).unwrap();
        assert_eq!(
            url.as_str(),
            "http://h.test/base/v1/events?site=a&site=b%26c&session=tab+1"
        );
    }

    #[test]
    fn snapshots_and_deltas_decode() {
        let snapshot = Update::from_message("snapshot", r#"{"type":"snapshot","sites":[]}"#);
        assert!(matches!(snapshot, Some(Update::Snapshot(sites)) if sites.is_empty()));
        let saved = r#"{"type":"saved","site":"s","save":{"version":2,"page":"/","user":{"id":1,"name":"Ann","email":"a@x.test"},"at":5,"forced":false,"extra":"ignored"}}"#;
        assert!(matches!(
            Update::from_message("saved", saved),
            Some(Update::Event(Event::Saved { .. }))
        ));
    }

    #[test]
    fn unknown_names_and_bad_data_are_skipped() {
        assert!(Update::from_message("typing", r#"{"type":"typing"}"#).is_none());
        assert!(Update::from_message("", "hello").is_none());
        assert!(Update::from_message("join", "{not json").is_none());
        assert!(Update::from_message("join", r#"{"type":"join"}"#).is_none());
        assert!(Update::from_message("move", r#"{"type":"teleport","site":"s"}"#).is_none());
    }
}
