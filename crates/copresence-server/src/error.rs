//! The service's error answer: a status and `{"error": {"code", "message"}}`.
//!
//! Clients match the `code`; the message is for people. Store and presence failures become 503
//! with `Retry-After`, never a 500: the request can be repeated once the store is back.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use copresence_core::{ErrorBody, ErrorCode, ErrorDetail, InvalidInput, SaveRecord};

use crate::presence::PresenceError;
use crate::store::{SaveError, StoreError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: a conflict carries a whole save record, and errors travel through every `?`.
    pub detail: Box<ErrorDetail>,
    /// Seconds after which the same request may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                code,
                message: message.into(),
                current_version: None,
                last_save: None,
            }),
            retry_after: None,
        }
    }

    /// 429: a limit was reached; the same request may succeed after `retry_after` seconds.
    pub fn too_many(code: ErrorCode, message: impl Into<String>, retry_after: u64) -> Self {
        let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        error.retry_after = Some(retry_after.max(1));
        error
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid bearer token is required (Authorization: Bearer …)",
        )
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no such {what}"),
        )
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn stale_version(current: i64, last_save: Option<SaveRecord>) -> Self {
        let mut error = ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::StaleVersion,
            format!("the site is at version {current}: refresh, or save with force to overwrite"),
        );
        error.detail.current_version = Some(current);
        error.detail.last_save = last_save;
        error
    }

    fn unavailable(message: String) -> Self {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StoreUnavailable,
            message,
        );
        error.retry_after = Some(2);
        error
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        let code = match error {
            InvalidInput::SessionId => ErrorCode::InvalidSessionId,
            InvalidInput::Client => ErrorCode::InvalidClient,
            InvalidInput::PagePath => ErrorCode::InvalidPage,
            InvalidInput::SiteId => ErrorCode::InvalidSiteId,
            InvalidInput::PageTitle => ErrorCode::InvalidTitle,
        };
        ApiError::bad_request(code, error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::unavailable("the store is unavailable; try again shortly".into())
            }
            StoreError::Invalid(message) => ApiError::bad_request(ErrorCode::BadRequest, message),
        }
    }
}

impl From<SaveError> for ApiError {
    fn from(error: SaveError) -> Self {
        match error {
            SaveError::Stale { current, last_save } => ApiError::stale_version(current, last_save),
            SaveError::Store(e) => e.into(),
        }
    }
}

impl From<PresenceError> for ApiError {
    fn from(error: PresenceError) -> Self {
        match error {
            PresenceError::Unavailable(_) => {
                tracing::warn!(%error, "presence unavailable");
                ApiError::unavailable(error.to_string())
            }
            // A place frees when one of the caller's sessions closes or expires: a heartbeat
            // interval is a fair time to wait before asking again.
            PresenceError::TooManySessions(cap) => {
                ApiError::too_many(ErrorCode::TooManySessions, cap.to_string(), 15)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: *self.detail,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
