//! `GET /v1/events`: the live feed over Server-Sent Events.
//!
//! A connection starts with a `snapshot` of every requested site, or, when it resumes with a
//! `Last-Event-ID` whose events are still held, with just the events it missed. Then every
//! join, move, leave and saved, in order. A subscriber that falls too far behind is sent a fresh
//! snapshot rather than an ever-growing queue.
//!
//! `?session=ID` attaches one of the caller's sessions to the connection: while it is open the
//! session needs no heartbeat, and when it drops the session leaves after the reconnect grace —
//! unless the browser's automatic reconnect comes back first, in which case nobody sees a thing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::sites::site_state;
use super::{bearer_token, ApiResult, AppState};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::presence::{Attachment, FeedStart, Published};
use crate::store::StoredSite;
use copresence_core::{validate_session_id, Event, UserCard};

/// How soon a browser's `EventSource` should reconnect after a drop.
const BROWSER_RECONNECT: Duration = Duration::from_secs(1);

#[derive(Default)]
struct EventsQuery {
    sites: Vec<String>,
    session: Option<String>,
    last_event_id: Option<String>,
    ticket: Option<String>,
}

impl EventsQuery {
    fn parse(query: Option<&str>) -> EventsQuery {
        let mut parsed = EventsQuery::default();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "site" => parsed.sites.push(value),
                "session" => parsed.session = Some(value),
                "last_event_id" => parsed.last_event_id = Some(value),
                "ticket" => parsed.ticket = Some(value),
                _ => {}
            }
        }
        parsed
    }
}

/// The caller, by bearer token or, for browsers, by ticket.
async fn authenticate(state: &AppState, parts: &Parts, query: &EventsQuery) -> ApiResult<UserCard> {
    let user = if let Some(token) = bearer_token(parts) {
        state.store.user_by_token(token).await?
    } else if let Some(ticket) = &query.ticket {
        state.store.user_by_ticket(ticket, now_ms()).await?
    } else {
        None
    };
    user.ok_or_else(ApiError::unauthorized)
}

fn sse_of(published: &Published) -> SseEvent {
    SseEvent::default()
        .id(&published.id)
        .event(published.event.name())
        .data(&published.data)
}

/// A snapshot event of `sites` with these rosters, and the version of each site it shows.
async fn snapshot(
    state: &AppState,
    sites: &[StoredSite],
    mut rosters: Vec<(String, copresence_core::roster::Roster)>,
    cursor: &str,
) -> ApiResult<(SseEvent, HashMap<String, i64>)> {
    let mut states = Vec::with_capacity(sites.len());
    for site in sites {
        let roster = rosters
            .iter_mut()
            .find(|(id, _)| *id == site.info.id)
            .map(|(_, roster)| std::mem::take(roster))
            .unwrap_or_default();
        // Re-read the stored part now, after the feed was opened: a save in between is then in
        // the snapshot, and its event is dropped below as already seen.
        let fresh = state
            .store
            .site_of_any(&site.info.id)
            .await?
            .unwrap_or_else(|| site.clone());
        states.push(site_state(state, fresh, roster).await?);
    }
    let versions = states
        .iter()
        .map(|s| (s.site.id.clone(), s.version))
        .collect();
    let data = serde_json::to_string(&Event::Snapshot { sites: states })
        .map_err(|e| ApiError::bad_request("internal", e.to_string()))?;
    let event = SseEvent::default().id(cursor).event("snapshot").data(data);
    Ok((event, versions))
}

pub async fn stream(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let (parts, _body) = request.into_parts();
    let query = EventsQuery::parse(parts.uri.query());
    let caller = authenticate(&state, &parts, &query).await?;

    let sites: Vec<StoredSite> = if query.sites.is_empty() {
        state.store.sites_of(caller.id).await?
    } else {
        let mut sites = Vec::with_capacity(query.sites.len());
        for id in &query.sites {
            let site = state.store.site_of(caller.id, id).await?;
            let site = site.ok_or_else(|| ApiError::not_found("site"))?;
            if !sites.iter().any(|s: &StoredSite| s.info.id == site.info.id) {
                sites.push(site);
            }
        }
        sites
    };
    let site_ids: Arc<[String]> = sites.iter().map(|s| s.info.id.clone()).collect();

    let attachments: Vec<Attachment> = match &query.session {
        Some(session) => {
            validate_session_id(session)?;
            site_ids
                .iter()
                .map(|site| state.presence.attach(site, caller.id, session))
                .collect()
        }
        None => Vec::new(),
    };

    let last_event_id = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(query.last_event_id.clone())
        .filter(|id| !id.is_empty());

    let feed = state
        .presence
        .subscribe(&site_ids, last_event_id.as_deref())
        .await?;
    let (first, mut versions, first_order) = match feed.start {
        FeedStart::Snapshot { rosters, cursor } => {
            let (event, versions) = snapshot(&state, &sites, rosters, &cursor).await?;
            (vec![event], versions, None)
        }
        FeedStart::Replay(events) => (
            events.iter().map(|p| sse_of(p)).collect(),
            HashMap::new(),
            events.last().map(|p| p.order),
        ),
    };
    let mut live = feed.live;
    let mut after = match (&first_order, feed.after) {
        (Some(replayed), Some(read)) => Some(read.max(*replayed)),
        (replayed, read) => read.or(*replayed),
    };

    let events = async_stream::stream! {
        // Held for as long as the client stays connected.
        let _attachments = attachments;
        // Browsers reconnect after their own default (3 s or more); ask for sooner, well inside
        // the reconnect grace.
        yield Ok(SseEvent::default().retry(BROWSER_RECONNECT));
        for event in first {
            yield Ok(event);
        }
        loop {
            match live.recv().await {
                Ok(published) => {
                    if !site_ids.contains(&published.site)
                        || after.is_some_and(|seen| published.order <= seen)
                    {
                        continue;
                    }
                    if let Event::Saved { save, .. } = &published.event {
                        if versions.get(&published.site).is_some_and(|v| save.version <= *v) {
                            continue;
                        }
                    }
                    yield Ok(sse_of(&published));
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, user = caller.id, "subscriber fell behind; sending a fresh snapshot");
                    let Ok(feed) = state.presence.subscribe(&site_ids, None).await else { break };
                    let FeedStart::Snapshot { rosters, cursor } = feed.start else { break };
                    let Ok((event, fresh)) = snapshot(&state, &sites, rosters, &cursor).await else { break };
                    versions = fresh;
                    live = feed.live;
                    after = feed.after;
                    yield Ok(event);
                }
                Err(RecvError::Closed) => break,
            }
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
