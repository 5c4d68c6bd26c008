//! `POST /v1/sites/{site}/saves` (a save on top of a version) and `GET` (the history).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use copresence_core::{ErrorCode, SaveRecord, SaveRequest};
use serde::Deserialize;

use super::{ApiResult, AppState, Body, Caller, PathParams};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::ratelimit::Action;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(site): PathParams<String>,
    Body(request): Body<SaveRequest>,
) -> ApiResult<(StatusCode, Json<SaveRecord>)> {
    state.rates.check(Action::Save, caller.0.user.id)?;
    let site = state
        .member_site_page(&caller, &site, &request.page)
        .await?;
    let save = state
        .store
        .save(
            &site.id,
            &caller.0.user,
            &request.page,
            request.base_version,
            request.force,
            now_ms(),
        )
        .await?;
    // The save is durable; if live presence cannot announce it, watchers still see the new
    // version in their next snapshot, so the saver gets their 201.
    if let Err(error) = state.presence.publish_saved(&site.id, save.clone()).await {
        tracing::warn!(%error, "save stored but not announced");
    }
    Ok((StatusCode::CREATED, Json(save)))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    limit: Option<i64>,
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(site): PathParams<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<SaveRecord>>> {
    let Query(query) =
        query.map_err(|e| ApiError::bad_request(ErrorCode::InvalidQuery, e.body_text()))?;
    let site = state.member_site(&caller, &site).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(state.store.saves(&site.id, limit).await?))
}
