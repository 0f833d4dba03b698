//! Errors as HTTP responses, once: `{"error": NAME, "message": ...}` with the
//! status the kind means. Bad input is a 4xx; a 5xx is a bug or a broken disk.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tributary::Error;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, name, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundError", message)
    }

    pub fn auth(status: u16, message: impl Into<String>) -> Self {
        Self::new(StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED), "AuthError", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeError", format!("the body is over the limit of {limit} bytes"))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::Validation(_) | Error::UnknownTopic(_) => StatusCode::BAD_REQUEST,
            Error::Conflict { .. } | Error::Stale { .. } | Error::DuplicateTracking { .. } => StatusCode::CONFLICT,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Auth(_) => StatusCode::UNAUTHORIZED,
            Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, name: error.name(), message: error.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.name, "message": self.message }))).into_response()
    }
}
