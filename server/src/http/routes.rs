//! The handlers, one per route, for the base URL of one application
//! `/{tenant}/{app}`: small functions over extractors; every rejection is a
//! JSON error, and every call is authorised first ([`Authorized`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tributary::persistence::MAX_SAFE;
use tributary::sync::limits::{MAX_PAGE, MAX_WAIT_MS, WAIT_MS};
use tributary::sync::protocol::{ConflictReply, PushReply, PushRequest, WaitReply};
use tributary::Kind;

use super::authorized::Authorized;
use super::error::ApiError;
use super::openapi::{NotificationItem, Problem, Refusals, Section};
use super::Server;
use crate::page::MORE;
use crate::push::Accepted;

fn json_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /{tenant}/{app}/log/{first},{last}`: a section, as `NotificationLogJSONService.get_log_section` writes it.
#[utoipa::path(get, path = "/{tenant}/{app}/log/{section}",
    params(LogPath),
    responses(
        (status = 200, description = "the section", body = Section),
        Refusals,
    ))]
pub async fn log(Authorized(store): Authorized, path: Result<Path<(String, String, String)>, PathRejection>) -> Result<Response, ApiError> {
    let Path((_, _, section)) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let json =
        store.read(move |local| Box::pin(async move { Ok(local.app.notification_log().section(&section).await?.to_json()) })).await?;
    Ok(json_text(json))
}

/// The base of an application's routes (for the description: the extractor reads it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct AppPath {
    /// A tenant the server was started with.
    tenant: String,
    /// The application's name.
    app: String,
}

/// The path of a section (for the description: the handler reads it as a tuple).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct LogPath {
    /// A tenant the server was started with.
    tenant: String,
    /// The application's name.
    app: String,
    /// `first,last`: `1,10`.
    #[param(pattern = "^[1-9][0-9]{0,15},[1-9][0-9]{0,15}$")]
    section: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// The first notification id wanted.
    #[param(maximum = 9_007_199_254_740_991_f64)]
    start: u64,
    /// At most this many; a page may be cut short for its bytes.
    #[param(maximum = 10_000)]
    limit: u64,
    /// Comma-separated topics ("Dog.TrickAdded"): only those.
    topics: Option<String>,
    /// `false` starts after `start`.
    inclusive_of_start: Option<bool>,
}

/// `GET /{tenant}/{app}/notifications?start=N&limit=M[&topics=A,B][&inclusive_of_start=false]`:
/// as `NotificationLogJSONService.get_notifications` writes them. A page cut
/// short for its bytes says so in the `tributary-more` header (see [`crate::page`]).
#[utoipa::path(get, path = "/{tenant}/{app}/notifications",
    params(
        AppPath,
        NotificationsQuery,
    ),
    responses(
        (status = 200, description = "the notifications, in id order", body = Vec<NotificationItem>,
            headers(("tributary-more" = String, description = "`true` when the page was cut short for its bytes: read on"))),
        Refusals,
    ))]
pub async fn notifications(
    Authorized(store): Authorized,
    query: Result<Query<NotificationsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    if query.limit > MAX_PAGE as u64 {
        return Err(ApiError::invalid(format!("limit {} is above {MAX_PAGE}", query.limit)));
    }
    if query.start > MAX_SAFE {
        return Err(ApiError::invalid(format!("start {} is past 2^53 - 1, where ids end", query.start)));
    }
    let start = if query.inclusive_of_start.unwrap_or(true) { query.start } else { query.start.saturating_add(1) };
    let topics: Vec<String> = query.topics.map(|t| t.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()).unwrap_or_default();
    let page = store.page(start, query.limit as usize, topics).await?;
    let mut response = json_text(page.to_json());
    if page.is_cut() {
        response.headers_mut().insert(MORE, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `POST /{tenant}/{app}/push`: a client's events, recorded once with its position.
#[utoipa::path(post, path = "/{tenant}/{app}/push",
    params(AppPath),
    request_body = PushRequest,
    responses(
        (status = 200, description = "recorded (now, or by an identical push before)", body = PushReply),
        (status = 408, description = "the body stopped coming", body = Problem),
        (status = 409, description = "versions another client took first: nothing was written", body = ConflictReply),
        (status = 413, description = "a body over the server's limit", body = Problem),
        Refusals,
    ))]
pub async fn push(
    State(server): State<Arc<Server>>,
    Authorized(store): Authorized,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(server.max_body_bytes),
        _ if timed_out(&e) => ApiError::with_status(Kind::Timeout, 408, "the request body stopped coming"),
        _ => ApiError::invalid(e.body_text()),
    })?;
    let request: PushRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the push is not the expected JSON: {e}")))?;
    let push = request.checked()?;
    match store.push(push).await? {
        Accepted::Recorded(reply) => Ok(Json(reply).into_response()),
        Accepted::Refused(conflicts) => {
            let message =
                format!("{} event(s) of this push are at versions another client recorded first; nothing was written", conflicts.len());
            Ok((StatusCode::CONFLICT, Json(ConflictReply { error: Kind::Conflict.name().into(), message, conflicts })).into_response())
        }
    }
}

/// Whether reading the body failed for the body timeout (somewhere in its causes).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Answer once the log holds a notification after this id.
    #[param(maximum = 9_007_199_254_740_991_f64)]
    after: u64,
    /// At most this long (25,000 by default), then answer anyway.
    #[param(maximum = 60_000)]
    timeout_ms: Option<u64>,
}

/// `GET /{tenant}/{app}/wait?after=N[&timeout_ms=T]`: answers once the log
/// holds more than `after`, or at the timeout, with its newest id.
#[utoipa::path(get, path = "/{tenant}/{app}/wait",
    params(
        AppPath,
        WaitQuery,
    ),
    responses(
        (status = 200, description = "the log's newest id", body = WaitReply),
        Refusals,
    ))]
pub async fn wait(
    State(server): State<Arc<Server>>,
    Authorized(store): Authorized,
    query: Result<Query<WaitQuery>, QueryRejection>,
) -> Result<Json<WaitReply>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    if query.after > MAX_SAFE {
        return Err(ApiError::invalid(format!("after {} is past 2^53 - 1, where ids end", query.after)));
    }
    let timeout = query.timeout_ms.unwrap_or(WAIT_MS);
    if timeout > MAX_WAIT_MS {
        return Err(ApiError::invalid(format!("timeout_ms {timeout} is above {MAX_WAIT_MS}")));
    }
    let mut head = store.head();
    tokio::select! {
        _ = tokio::time::timeout(Duration::from_millis(timeout), head.wait_for(|head| *head > query.after)) => {}
        () = server.stopped() => {}
    }
    let max_notification_id = *head.borrow();
    Ok(Json(WaitReply { max_notification_id }))
}
