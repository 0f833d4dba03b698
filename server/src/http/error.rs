//! Errors as HTTP responses, once: `{"error": NAME, "message": ...}` with the
//! status its [`Kind`] is answered with. Bad input is a 4xx; a 5xx is a bug or a
//! broken disk.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tributary::{Error, Kind};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: Kind,
    message: String,
}

impl ApiError {
    /// An answer of this kind, with its usual status.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self::with_status(kind, kind.statuses()[0], message)
    }

    /// An answer of this kind with another of the statuses it is answered with.
    pub fn with_status(kind: Kind, status: u16, message: impl Into<String>) -> Self {
        debug_assert!(kind.statuses().contains(&status), "{} is not answered {status}", kind.name());
        ApiError { status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), kind, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Validation, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    /// 401 (no token, or a wrong one) or 403 (another tenant's).
    pub fn auth(status: u16, message: impl Into<String>) -> Self {
        Self::with_status(Kind::Auth, status, message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(Kind::PayloadTooLarge, format!("the body is over the limit of {limit} bytes"))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self::new(error.kind(), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.kind.name(), "message": self.message }))).into_response()
    }
}
