//! The HTTP surface: routes over one application's base URL, and the layers
//! around them (CORS, the body's size and time limits, early answers held
//! until the body is read, a line of log per request, panics as JSON 500s).
//! Handlers are small functions in `routes`; errors turn into responses
//! once, in [`error`].

mod authorized;
pub mod error;
mod linger;
mod openapi;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use tributary::Kind;

use crate::config::Config;
use crate::tenants::Tenants;
use error::ApiError;

/// How long the rest of a body an answer left unread may take to come, at
/// most, before the answer goes and the connection closes.
const LINGER_TIME: Duration = Duration::from_secs(5);
/// How many times the body limit is read, at most, of a body an answer left unread.
const LINGER_BODIES: u64 = 4;

/// What the handlers share.
pub struct Server {
    pub tenants: Tenants,
    pub max_body_bytes: usize,
    /// Set when the process is to stop: long-polls answer at once.
    stopping: watch::Sender<bool>,
}

impl Server {
    pub fn new(tenants: Tenants, max_body_bytes: usize) -> Server {
        Server { tenants, max_body_bytes, stopping: watch::channel(false).0 }
    }

    /// Answers every long-poll now and any that comes later at once, so that
    /// a graceful shutdown does not wait for their timeouts.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once [`Server::stop`] is called.
    pub async fn stopped(&self) {
        let _ = self.stopping.subscribe().wait_for(|stopping| *stopping).await;
    }
}

pub fn router(config: &Config, server: Arc<Server>) -> Router {
    let limit = server.max_body_bytes;
    Router::new()
        .route("/{tenant}/{app}/log/{section}", get(routes::log))
        .route("/{tenant}/{app}/notifications", get(routes::notifications))
        .route("/{tenant}/{app}/push", post(routes::push))
        .route("/{tenant}/{app}/wait", get(routes::wait))
        .route("/openapi.json", get(openapi::served))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::new(Kind::MethodNotAllowed, "that method is not served here") })
        .with_state(server)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(axum::middleware::map_response(move |response: Response| async move { as_json_limit(response, limit) }))
        // outside the limits and the handlers, so that it sees all their answers
        // (the 413 already in JSON), and inside the body timeout, which bounds its reading too
        .layer(axum::middleware::from_fn_with_state(
            linger::Bound { bytes: LINGER_BODIES.saturating_mul(limit as u64), time: LINGER_TIME },
            linger::linger,
        ))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(config.body_timeout)))
        .layer(cors(&config.allow_origins))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("the server hit a bug").into_response()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The body limit's own 413 says so in JSON, as every other error does.
fn as_json_limit(response: Response, limit: usize) -> Response {
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::too_large(limit).into_response();
    }
    response
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static(crate::page::MORE)])
        .max_age(Duration::from_secs(3600));
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(AllowOrigin::any());
    }
    layer.allow_origin(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect::<Vec<_>>())
}
