//! `GET /v1/me` and `GET /v1/users/{id}`: user cards; `GET /v1/auth`: how to sign in.

use axum::extract::State;
use axum::Json;
use copresence_core::{AuthInfo, Me, SignInProvider, UserCard, UserId};

use super::{ApiResult, AppState, Caller, PathParams};
use crate::error::ApiError;

/// How to sign in, for anyone who asks: only public facts (issuers, the public client id).
pub async fn auth(State(state): State<AppState>) -> Json<AuthInfo> {
    let mut providers = Vec::new();
    if let Some(verifier) = state.auth.oidc() {
        for (config, metadata) in verifier.describe().await {
            providers.push(SignInProvider {
                endpoints: metadata.map(|m| m.endpoints).unwrap_or_default(),
                issuer: config.issuer,
                client_id: config.client_id,
                scopes: config.scopes,
                audience: config.audience,
            });
        }
    }
    Json(AuthInfo {
        providers,
        operator_tokens: true,
    })
}

pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: caller.0.user,
    })
}

/// A card is visible to its owner and to anyone sharing a site with them.
pub async fn card(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<UserCard>> {
    let id: UserId = id.parse().map_err(|_| ApiError::not_found("user"))?;
    let card = state.store.user_visible_to(caller.0.user.id, id).await?;
    card.map(Json).ok_or_else(|| ApiError::not_found("user"))
}
