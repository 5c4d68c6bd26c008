//! `PUT` and `DELETE /v1/sites/{site}/sessions/{session}`: join, heartbeat, move, leave. A `PUT`
//! on a page the site does not have adds it, when the site takes pages from its editors; one
//! with an editor tab's `url` keeps it when one of the site's editors reads the session's page
//! from it, and is refused (`invalid_url`) otherwise.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use copresence_core::editors::check_session_address;
use copresence_core::roster::SessionPut;
use copresence_core::{validate_client, validate_session_id, ErrorCode, PutSession, SessionState};

use super::{ApiResult, AppState, Body, Caller, PathParams};
use crate::error::ApiError;
use crate::ratelimit::Action;

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((site, session)): PathParams<(String, String)>,
    Body(request): Body<PutSession>,
) -> ApiResult<Json<SessionState>> {
    state.rates.check(Action::Session, caller.0.user.id)?;
    validate_session_id(&session)?;
    validate_client(&request.client)?;
    let mut url = None;
    if let Some(address) = &request.url {
        // Checked before the page is added: a refused request changes nothing. Kept as checked.
        let site = state.member_site(&caller, &site).await?;
        url = Some(
            check_session_address(&site.editors, &request.page, address).map_err(|refused| {
                ApiError::bad_request(ErrorCode::InvalidUrl, refused.to_string())
            })?,
        );
    }
    let site = state
        .member_site_opening(&caller, &site, &request.page, request.title.as_deref())
        .await?;
    let info = state
        .presence
        .put_session(
            &site.id,
            &caller.0.user,
            &session,
            SessionPut {
                page: &request.page,
                client: &request.client,
                url: url.as_deref(),
            },
        )
        .await?;
    let config = state.presence.config();
    Ok(Json(SessionState {
        session: info,
        ttl_ms: config.session_ttl.as_millis() as u64,
        heartbeat_ms: config.heartbeat().as_millis() as u64,
    }))
}

/// Leave at once. Idempotent: closing a session that is not open is not an error.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((site, session)): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    state.rates.check(Action::Session, caller.0.user.id)?;
    validate_session_id(&session)?;
    let site = state.member_site(&caller, &site).await?;
    state
        .presence
        .end_session(&site.id, caller.0.user.id, &session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
