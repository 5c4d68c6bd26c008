//! `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`, which cannot set
//! an `Authorization` header. It is accepted as `?ticket=` on `/v1/events` only, for the sites
//! it was asked for, and stays valid for the browser's own reconnects until it expires — when
//! the stream it opened ends, and the page takes a fresh one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use copresence_core::{ErrorCode, Ticket, TicketRequest, MAX_STREAM_SITES};

use super::{ApiResult, AppState, Caller};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::ratelimit::Action;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    state.rates.check(Action::Ticket, caller.0.user.id)?;
    // No body is a ticket for every site, as before tickets were scoped.
    let request: TicketRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TicketRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            let code = if e.is_syntax() || e.is_eof() {
                ErrorCode::InvalidJson
            } else {
                ErrorCode::InvalidBody
            };
            ApiError::bad_request(code, format!("the body is not a ticket request: {e}"))
        })?
    };
    let mut sites = Vec::new();
    if request.sites.is_empty() {
        for site in state.store.sites_of(caller.0.who()).await? {
            sites.push(site.info.id);
        }
    } else {
        for site in &request.sites {
            if !sites.contains(site) {
                // Checks the id before any lookup, then the membership.
                state.member_site(&caller, site).await?;
                sites.push(site.clone());
            }
            if sites.len() > MAX_STREAM_SITES {
                return Err(ApiError::bad_request(
                    ErrorCode::TooManySites,
                    format!("a ticket is for at most {MAX_STREAM_SITES} sites"),
                ));
            }
        }
    }
    let ticket = state
        .store
        .issue_ticket(
            caller.0.who(),
            caller.0.expires_at,
            &sites,
            now_ms(),
            state.ticket_lifetime_ms,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}
