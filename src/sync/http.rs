//! The port a sync client speaks HTTP through: the core does no I/O, so the
//! browser gives it `fetch` and native code whatever client it likes.

use async_trait::async_trait;

use crate::error::{Error, Result};

/// A request: `GET` without a body, or `POST` with JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Sent as `Authorization: Bearer ...`.
    pub token: Option<String>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A response: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The server cut this page of notifications short for its size, and
    /// more may follow (its `tributary-more` header): read on.
    pub more: bool,
}

/// The header by which a server says a page was cut short for its size.
pub const MORE: &str = "tributary-more";

/// Sends requests. A request that got no response (no network, refused, timed
/// out) is an `Err` with the reason; any response, whatever its status, is `Ok`.
#[async_trait(?Send)]
pub trait Http {
    async fn send(&self, request: Request) -> std::result::Result<Response, String>;
}

impl Response {
    /// The body of a successful response; the error a failed one means.
    pub fn ok(self, doing: &str) -> Result<Vec<u8>> {
        match self.status {
            200..=299 => Ok(self.body),
            401 => Err(Error::Auth(format!("{doing}: no token, or a wrong one (401{})", detail(&self.body)))),
            403 => Err(Error::Auth(format!("{doing}: the token is for another tenant (403{})", detail(&self.body)))),
            status => Err(Error::Sync(format!("{doing}: the server answered {status}{}", detail(&self.body)))),
        }
    }
}

/// The server's `{"error", "message"}`, if it sent one, for the message.
fn detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Problem {
        message: String,
    }
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => format!(": {}", problem.message.chars().take(300).collect::<String>()),
        Err(_) => String::new(),
    }
}
