//! `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`, which cannot set
//! an `Authorization` header. It is accepted as `?ticket=` on `/v1/events` only, and stays valid
//! for the browser's own reconnects until it expires.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use copresence_core::Ticket;

use super::{ApiResult, AppState, Caller};
use crate::clock::now_ms;
use crate::ratelimit::Action;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    state.rates.check(Action::Ticket, caller.0.id)?;
    let ticket = state
        .store
        .issue_ticket(caller.0.id, now_ms(), state.ticket_lifetime_ms)
        .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}
