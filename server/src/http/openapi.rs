//! The HTTP API as OpenAPI 3, made from the routes' annotations and the wire
//! protocol's own types, and served at `/openapi.json` (no token needed), so
//! that tools (schemathesis in the test command) can check the server against it.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tributary::sync::protocol::{ConflictReply, PushConflict, PushReply, PushRequest, PushedEvent, WaitReply};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tributary-server",
        description = "The sync server of tributary: a log per tenant and application, pushed to and pulled from. \
                       Every route but this description takes `Authorization: Bearer TOKEN`, the tenant's."
    ),
    paths(routes::log, routes::notifications, routes::push, routes::wait),
    components(schemas(Problem, Section, NotificationItem, PushRequest, PushedEvent, PushReply, ConflictReply, PushConflict, WaitReply)),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct Api;

/// `GET /openapi.json`.
pub async fn served() -> Response {
    Json(Api::openapi()).into_response()
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The errors every route may answer with, described once.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(status = 400, description = "a wrong parameter")]
    Invalid(Problem),
    #[response(status = 401, description = "no token, or a wrong one")]
    Unauthorised(Problem),
    #[response(status = 403, description = "the token of another tenant")]
    Forbidden(Problem),
    #[response(status = 404, description = "no such tenant or route")]
    NotFound(Problem),
    #[response(status = 503, description = "the store cannot answer now (a database down): try again")]
    Unavailable(Problem),
}

/// Every error: its kind's name (`ValidationError`, `AuthError`, ...: see docs/errors.md) and what to do.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    pub error: String,
    pub message: String,
}

/// A section of the notification log, as the Python library's `get_log_section` writes it.
#[derive(Serialize, ToSchema)]
pub struct Section {
    /// `"first,last"` of the items, or null when there are none.
    pub id: Option<String>,
    /// The next section's id, or null when this is the last.
    pub next_id: Option<String>,
    pub items: Vec<NotificationItem>,
}

/// A notification, as the Python library's notification log writes it.
#[derive(Serialize, ToSchema)]
pub struct NotificationItem {
    #[schema(minimum = 1)]
    pub id: u64,
    /// 32 hex digits.
    pub originator_id: String,
    pub originator_version: u64,
    pub topic: String,
    /// Standard base64 of the stored bytes.
    pub state: String,
}
