//! `GET /v1/me` and `GET /v1/users/{id}`: user cards.

use axum::extract::State;
use axum::Json;
use copresence_core::{Me, UserCard, UserId};

use super::{ApiResult, AppState, Caller, PathParams};
use crate::error::ApiError;

pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me { user: caller.0 })
}

/// A card is visible to its owner and to anyone sharing a site with them.
pub async fn card(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<UserCard>> {
    let id: UserId = id.parse().map_err(|_| ApiError::not_found("user"))?;
    let card = state.store.user_visible_to(caller.0.id, id).await?;
    card.map(Json).ok_or_else(|| ApiError::not_found("user"))
}
