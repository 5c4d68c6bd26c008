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

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

use super::sites::site_state;
use super::{bearer_token, ApiResult, AppState};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::presence::{sse_frame, Attachment, EventOrder, Feed, FeedStart, Published};
use crate::store::StoredSite;
use copresence_core::{
    validate_session_id, validate_site_id, ErrorCode, Event, StreamEnd, StreamEndReason, UserId,
    MAX_STREAM_SITES,
};
use tokio::sync::broadcast;

use crate::auth::Principal;
use crate::revocation::Revoked;
use crate::secret;
use crate::store::Credential;

/// The first frame of every stream: browsers reconnect after their own default (3 s or more);
/// this asks for one second, well inside the reconnect grace.
const RETRY: &[u8] = b"retry: 1000\n\n";
/// A comment that keeps idle connections (and the proxies between) open.
const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";
/// How often the keep-alive comment is sent, whether or not events flow.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// What a site's `saved` events are compared with: the version its last snapshot showed.
type Versions = Vec<(String, i64)>;

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

/// Who opened a stream (with what, and until when), and for which sites.
struct Opener {
    principal: Principal,
    /// A ticket's sites: the stream may follow these only.
    ticket_sites: Option<Vec<String>>,
}

/// The caller, by bearer token or, for browsers, by ticket.
async fn authenticate(state: &AppState, parts: &Parts, query: &EventsQuery) -> ApiResult<Opener> {
    if let Some(token) = bearer_token(parts) {
        let principal = state.auth.authenticate(token).await?;
        return Ok(Opener {
            principal: principal.ok_or_else(ApiError::unauthorized)?,
            ticket_sites: None,
        });
    }
    let ticket = query.ticket.as_deref().ok_or_else(ApiError::unauthorized)?;
    let grant = state.store.ticket(ticket, now_ms()).await?;
    let grant = grant.ok_or_else(ApiError::unauthorized)?;
    Ok(Opener {
        principal: Principal {
            user: grant.user,
            groups: grant.groups,
            credential: Credential::Ticket(secret::hash(ticket)),
            expires_at: Some(grant.expires_at),
        },
        ticket_sites: Some(grant.sites),
    })
}

/// The frame that ends a stream the service closes itself.
fn end_frame(reason: StreamEndReason) -> Bytes {
    let data = serde_json::to_string(&StreamEnd { reason }).expect("always serialises");
    Bytes::from(format!("event: end\ndata: {data}\n\n"))
}

/// Whether the stream's credential and sites still hold after a revocation touched its user.
/// When the store cannot say, they are taken to hold: an outage must not end every stream.
async fn still_allowed(state: &AppState, opener: &Principal, sites: &[String]) -> bool {
    let user = opener.user.id;
    match state
        .store
        .credential_holds(&opener.credential, user, now_ms())
        .await
    {
        Ok(false) => return false,
        Ok(true) => {}
        Err(error) => {
            tracing::warn!(%error, "cannot check a stream's credential again");
            return true;
        }
    }
    for site in sites {
        if let Ok(None) = state.store.member_site(opener.who(), site).await {
            return false;
        }
    }
    true
}

/// A snapshot frame of `sites` with these rosters, and the version of each site it shows.
async fn snapshot(
    state: &AppState,
    sites: &[StoredSite],
    mut rosters: Vec<(String, copresence_core::roster::Roster)>,
    cursor: &str,
) -> ApiResult<(Bytes, Versions)> {
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
        .collect::<Versions>();
    let data = serde_json::to_string(&Event::Snapshot { sites: states }).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            e.to_string(),
        )
    })?;
    Ok((sse_frame(cursor, "snapshot", &data), versions))
}

/// A fresh start for a subscriber that fell behind: a new subscription and its snapshot.
/// Boxed by the caller, so the stream's own state stays small for the life of the connection.
async fn resync(
    state: &AppState,
    site_ids: &[String],
    sites: &[StoredSite],
) -> Option<(Bytes, Versions, Feed)> {
    let Feed { start, live, after } = state.presence.subscribe(site_ids, None).await.ok()?;
    let FeedStart::Snapshot { rosters, cursor } = start else {
        return None;
    };
    let (frame, versions) = snapshot(state, sites, rosters, &cursor).await.ok()?;
    let feed = Feed {
        start: FeedStart::Replay(Vec::new()),
        live,
        after,
    };
    Some((frame, versions, feed))
}

/// Whether a subscriber to `site_ids` that has seen everything up to `after`, and snapshots
/// at `versions`, is sent this event.
fn wanted(
    published: &Published,
    site_ids: &[String],
    after: Option<EventOrder>,
    versions: &Versions,
) -> bool {
    if after.is_some_and(|seen| published.order <= seen) || !site_ids.contains(&published.site) {
        return false;
    }
    match &published.event {
        Event::Saved { save, .. } => !versions
            .iter()
            .any(|(site, v)| *site == published.site && save.version <= *v),
        _ => true,
    }
}

/// What the stream waits for next.
enum Next {
    Event(Result<Arc<Published>, RecvError>),
    KeepAlive,
    Revoked(Result<Revoked, RecvError>),
    Expired,
}

pub async fn stream(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let (parts, _body) = request.into_parts();
    let query = EventsQuery::parse(parts.uri.query());
    let opener = authenticate(&state, &parts, &query).await?;
    let caller = opener.principal.user.clone();
    // Listening before anything is read: a revocation from here on is not missed.
    let mut revoked = state.revocations.subscribe();

    // A ticket opens its own sites only: those asked for must be among them.
    let asked = match &opener.ticket_sites {
        Some(granted) if query.sites.is_empty() => granted.clone(),
        Some(granted) => {
            if let Some(other) = query.sites.iter().find(|s| !granted.contains(s)) {
                validate_site_id(other)?;
                return Err(ApiError::not_found("site"));
            }
            query.sites.clone()
        }
        None => query.sites.clone(),
    };
    let sites: Vec<StoredSite> = if asked.is_empty() {
        if opener.ticket_sites.is_some() {
            Vec::new()
        } else {
            state.store.sites_of(opener.principal.who()).await?
        }
    } else {
        // Checked before any lookup: what a stranger puts in the URL reaches neither the
        // database nor the cache unless it could be a site.
        let mut ids: Vec<&str> = asked.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > MAX_STREAM_SITES {
            return Err(ApiError::bad_request(
                ErrorCode::TooManySites,
                format!("a stream follows at most {MAX_STREAM_SITES} sites; leave out site= to follow all yours"),
            ));
        }
        for id in &ids {
            validate_site_id(id)?;
        }
        let mut sites = Vec::with_capacity(ids.len());
        for id in &asked {
            if sites.iter().any(|s: &StoredSite| s.info.id == *id) {
                continue;
            }
            let site = state.store.site_of(opener.principal.who(), id).await?;
            sites.push(site.ok_or_else(|| ApiError::not_found("site"))?);
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
    drop(parts);

    let feed = state
        .presence
        .subscribe(&site_ids, last_event_id.as_deref())
        .await?;
    let (first, mut versions, first_order) = match feed.start {
        FeedStart::Snapshot { rosters, cursor } => {
            let (frame, versions) = snapshot(&state, &sites, rosters, &cursor).await?;
            (vec![frame], versions, None)
        }
        FeedStart::Replay(events) => (
            events.iter().map(|p| p.frame.clone()).collect(),
            Versions::new(),
            events.last().map(|p| p.order),
        ),
    };
    let mut live = feed.live;
    let mut after = match (&first_order, feed.after) {
        (Some(replayed), Some(read)) => Some(read.max(*replayed)),
        (replayed, read) => read.or(*replayed),
    };
    let user: UserId = caller.id;
    // The stream ends when its credential does; a far-off expiry is as good as none.
    let expires_in = opener
        .principal
        .expires_at
        .map(|at| Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64))
        .unwrap_or(Duration::from_secs(365 * 86_400));
    let expiry = tokio::time::Instant::now() + expires_in;

    let frames = async_stream::stream! {
        // Held for as long as the client stays connected.
        let _attachments = attachments;
        yield Ok::<Bytes, Infallible>(Bytes::from_static(RETRY));
        for frame in first {
            yield Ok(frame);
        }
        // A steady beat, not pushed back by every event: one timer per stream, never reset.
        let mut keep_alive = tokio::time::interval_at(
            tokio::time::Instant::now() + KEEP_ALIVE_EVERY,
            KEEP_ALIVE_EVERY,
        );
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // One timer for the life of the stream, not one per event.
        let expiry = tokio::time::sleep_until(expiry);
        tokio::pin!(expiry);
        loop {
            let next = tokio::select! {
                biased;
                received = live.recv() => Next::Event(received),
                _ = keep_alive.tick() => Next::KeepAlive,
                news = revoked.recv() => Next::Revoked(news),
                _ = &mut expiry => Next::Expired,
            };
            match next {
                Next::Expired => {
                    yield Ok(end_frame(StreamEndReason::CredentialExpired));
                    break;
                }
                Next::Revoked(news) => {
                    let concerned = match &news {
                        Ok(users) => users.contains(&user),
                        // Missed some news: check anyway.
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => {
                            revoked = state.revocations.subscribe();
                            false
                        }
                    };
                    // Boxed like the resync: the check's store futures would otherwise size
                    // every idle stream's state for the life of its connection.
                    if concerned
                        && !Box::pin(still_allowed(&state, &opener.principal, &site_ids)).await
                    {
                        yield Ok(end_frame(StreamEndReason::AccessChanged));
                        break;
                    }
                }
                Next::KeepAlive => yield Ok(Bytes::from_static(KEEP_ALIVE)),
                Next::Event(Ok(published)) => {
                    if wanted(&published, &site_ids, after, &versions) {
                        yield Ok(published.frame.clone());
                    }
                }
                Next::Event(Err(RecvError::Lagged(missed))) => {
                    tracing::info!(missed, user, "subscriber fell behind; sending a fresh snapshot");
                    let Some((frame, fresh, feed)) =
                        Box::pin(resync(&state, &site_ids, &sites)).await
                    else {
                        break;
                    };
                    versions = fresh;
                    live = feed.live;
                    after = feed.after;
                    yield Ok(frame);
                }
                Next::Event(Err(RecvError::Closed)) => break,
            }
        }
    };
    let mut response = Response::new(Body::from_stream(frames));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
