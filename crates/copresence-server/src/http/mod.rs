//! The HTTP API: one file per resource, and what they share here — the router, the caller's
//! identity, and extractors whose every refusal is a JSON error.

mod events;
pub mod redirect;
mod saves;
mod sessions;
mod sites;
mod tickets;
mod users;

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use copresence_core::{
    validate_page_path, validate_page_title, validate_site_id, ErrorCode, Page, SiteInfo,
    MAX_BODY_BYTES,
};
use serde::de::DeserializeOwned;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{Authenticator, Principal};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::presence::Presence;
use crate::ratelimit::RateLimits;
use crate::revocation::Revocations;
use crate::store::{PageAdded, PageLimits, Store};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub presence: Arc<dyn Presence>,
    /// How long a `POST /v1/tickets` ticket is valid, in milliseconds.
    pub ticket_lifetime_ms: i64,
    pub rates: Arc<RateLimits>,
    /// News of access taken away, for open event streams.
    pub revocations: Arc<Revocations>,
    /// Who a bearer token signs in.
    pub auth: Arc<Authenticator>,
    /// How many pages a site's editors may add by opening them.
    pub page_limits: PageLimits,
    /// Where `GET /v1/auth/redirect` may send a browser back to.
    pub sign_in_returns: Arc<redirect::SignInReturns>,
}

impl AppState {
    /// The site if the caller is a member, else 404: a site one is not a member of does not
    /// exist. From memory while fresh (see [`Store::member_site`]): no database on a heartbeat.
    pub async fn member_site(&self, caller: &Caller, site: &str) -> Result<SiteInfo, ApiError> {
        validate_site_id(site)?;
        self.store
            .member_site(caller.0.who(), site)
            .await?
            .ok_or_else(|| ApiError::not_found("site"))
    }

    /// The site, as [`AppState::member_site`], checked to have the page `path`.
    pub async fn member_site_page(
        &self,
        caller: &Caller,
        site: &str,
        path: &str,
    ) -> Result<SiteInfo, ApiError> {
        validate_page_path(path)?;
        let site = self.member_site(caller, site).await?;
        if !self.store.page_exists(&site.id, path).await? {
            return Err(unknown_page(&site.id, path));
        }
        Ok(site)
    }

    /// The site, as [`AppState::member_site`], with the page `path` that the caller opened in
    /// an editor: one the site has, or — when the site takes pages from its editors — one added
    /// now for the caller with `title` (none: named by its path), and published as a `pages`
    /// event.
    pub async fn member_site_opening(
        &self,
        caller: &Caller,
        site: &str,
        path: &str,
        title: Option<&str>,
    ) -> Result<SiteInfo, ApiError> {
        validate_page_path(path)?;
        if let Some(title) = title {
            validate_page_title(title)?;
        }
        let site = self.member_site(caller, site).await?;
        if self.store.page_exists(&site.id, path).await? {
            return Ok(site);
        }
        let page = Page {
            path: path.to_owned(),
            title: title.unwrap_or_default().to_owned(),
        };
        match self
            .store
            .add_page(&site.id, &page, caller.0.user.id, self.page_limits)
            .await?
        {
            PageAdded::Added => {
                // The page is durable; if live presence cannot announce it, watchers still get
                // it in their next snapshot, so the editor's session goes on.
                if let Err(error) = self
                    .presence
                    .publish_pages(&site.id, vec![page], now_ms())
                    .await
                {
                    tracing::warn!(%error, "page added but not announced");
                }
                Ok(site)
            }
            PageAdded::Listed => Ok(site),
            PageAdded::Closed => Err(unknown_page(&site.id, path)),
            PageAdded::TooMany(cap) => Err(ApiError::bad_request(
                ErrorCode::TooManyPages,
                cap.to_string(),
            )),
        }
    }
}

fn unknown_page(site: &str, path: &str) -> ApiError {
    ApiError::bad_request(
        ErrorCode::UnknownPage,
        format!("site {site:?} has no page {path:?}"),
    )
}

pub fn router(state: AppState, allow_origins: &[String]) -> Router {
    let api = Router::new()
        .route("/v1/auth", get(users::auth))
        .route("/v1/auth/redirect", get(redirect::redirect))
        .route("/v1/me", get(users::me))
        .route("/v1/users/{id}", get(users::card))
        .route("/v1/sites", get(sites::list))
        .route("/v1/sites/{site}", get(sites::detail))
        .route(
            "/v1/sites/{site}/sessions/{session}",
            put(sessions::put).delete(sessions::delete),
        )
        .route(
            "/v1/sites/{site}/saves",
            post(saves::create).get(saves::history),
        )
        .route("/v1/tickets", post(tickets::create))
        .route("/v1/events", get(events::stream))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::not_found("resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "this resource does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(bounded_head))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "the service hit a bug; nothing was changed",
            )
            .into_response()
        }))
        .with_state(state);
    if allow_origins.is_empty() {
        return api;
    }
    let origins: Vec<HeaderValue> = allow_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    api.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::PUT, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("last-event-id"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Longest request target (path and query) accepted; longer → `414 uri_too_long`.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most bytes of request headers accepted; more → `431 headers_too_large`.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuse request heads larger than any client of the protocol sends, before anything reads
/// them: with a JSON error, where hyper's own read limit (the backstop) answers without one.
async fn bounded_head(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            ErrorCode::UriTooLong,
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            format!("the request headers take more than {MAX_HEADER_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// The authenticated caller.
pub struct Caller(pub Principal);

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or_else(ApiError::unauthorized)?;
        let principal = state.auth.authenticate(token).await?;
        principal.map(Caller).ok_or_else(ApiError::unauthorized)
    }
}

/// `Json` whose refusals are JSON errors: 400 for malformed or mistyped bodies, 413 for bodies
/// over the limit, 415 without a JSON content type.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let (status, code, message) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json".to_owned(),
        ),
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        }
        JsonRejection::JsonSyntaxError(_) => (
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {}", rejection.body_text()),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBody,
            rejection.body_text(),
        ),
    };
    ApiError::new(status, code, message)
}

/// `Path` whose refusals are JSON errors.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidPath, rejection.body_text())
}

/// Serve `Response`s from handlers uniformly.
pub type ApiResult<T> = Result<T, ApiError>;
