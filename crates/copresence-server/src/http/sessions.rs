//! `PUT` and `DELETE /v1/sites/{site}/sessions/{session}`: join, heartbeat, move, leave.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use copresence_core::{
    validate_client, validate_page_path, validate_session_id, PutSession, SessionState,
};

use super::{ApiResult, AppState, Body, Caller, PathParams};
use crate::error::ApiError;

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((site, session)): PathParams<(String, String)>,
    Body(request): Body<PutSession>,
) -> ApiResult<Json<SessionState>> {
    validate_session_id(&session)?;
    validate_client(&request.client)?;
    validate_page_path(&request.page)?;
    let site = state.member_site(&caller, &site).await?;
    if !state
        .store
        .page_exists(&site.info.id, &request.page)
        .await?
    {
        return Err(ApiError::bad_request(
            "unknown_page",
            format!("site {:?} has no page {:?}", site.info.id, request.page),
        ));
    }
    let info = state
        .presence
        .put_session(
            &site.info.id,
            &caller.0,
            &session,
            &request.page,
            &request.client,
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
    validate_session_id(&session)?;
    let site = state.member_site(&caller, &site).await?;
    state
        .presence
        .end_session(&site.info.id, caller.0.id, &session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
