//! The floor: the least an SSE fan-out over axum can do. No authentication, no store, no
//! roster, no replay log: `POST /publish` encodes the body as one SSE frame, once, and a tokio
//! broadcast channel hands the same bytes (a reference count, not a copy) to every
//! `GET /events` stream. The service's figures are reported as ratios to this one's, measured
//! the same way in the same run, so a later run on other hardware stays comparable.
//!
//! It runs as its own process (`copresence-bench floor-server`) so its memory is read from
//! `/proc` exactly like the service's, and so it never shares a runtime with the bench's
//! subscribers.

use std::convert::Infallible;
use std::io::Write;

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

/// The same queue depth the service gives each subscriber.
const QUEUE: usize = 1024;
/// Sent first on every stream: the subscriber knows it is registered once this arrives.
pub const READY_LINE: &[u8] = b": ready";

pub async fn serve(listen: &str) -> Result<()> {
    let (events, _) = broadcast::channel::<Bytes>(QUEUE);
    let app = Router::new()
        .route("/events", get(subscribe))
        .route("/publish", post(publish))
        .with_state(events);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    // The bench reads this line to learn the port, as it does the service's.
    println!("floor listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app)
        .await
        .context("the floor server stopped")
}

async fn subscribe(State(events): State<broadcast::Sender<Bytes>>) -> Response {
    // Subscribed before the answer starts: nothing published after the ready line is missed.
    let live = events.subscribe();
    let ready = Bytes::from_static(b": ready\n\n");
    let frames = stream::unfold(live, |mut live| async move {
        loop {
            match live.recv().await {
                Ok(frame) => return Some((Ok::<_, Infallible>(frame), live)),
                // A floor does not resynchronise a slow subscriber; it just skips ahead.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let body = stream::once(async move { Ok(ready) }).chain(frames);
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

async fn publish(State(events): State<broadcast::Sender<Bytes>>, data: Bytes) -> StatusCode {
    let mut frame = Vec::with_capacity(data.len() + 24);
    frame.extend_from_slice(b"event: move\ndata: ");
    frame.extend_from_slice(&data);
    frame.extend_from_slice(b"\n\n");
    // No subscribers is not an error: nobody is watching.
    let _ = events.send(Bytes::from(frame));
    StatusCode::NO_CONTENT
}
