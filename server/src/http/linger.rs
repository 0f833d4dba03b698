//! Early answers reach every client. An answer sent before the request's body
//! was read (a 413 for a body over the limit, a 401, a 404, ...) is held until
//! the rest of the body is read and dropped, within a bound, as nginx and
//! Apache do: hyper would otherwise close the connection with the body unread,
//! the client's system would get a reset while it still sends, and a client
//! that reads only once it has sent (Firefox's and Node's `fetch`) would see a
//! network error instead of the answer. Past the bound the answer says
//! `connection: close`, and the connection closes after it.
//!
//! The handlers read the body through [`Tap`], which shares it with
//! [`linger`]: what they leave, [`linger`] reads after them, and a handler
//! never sees a byte of it.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Version};
use axum::middleware::Next;
use axum::response::Response;
use futures::Stream;

/// How much of a body left unread is read to answer after it.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// Bytes read at most: a body with more left is not read, and its
    /// connection closes after the answer.
    pub bytes: u64,
    /// How long the rest may take to come, at most. The body timeout also
    /// applies: a body that stops for it ends the reading sooner.
    pub time: Duration,
}

/// The middleware: passes the request on with its body shared, and once the
/// answer is made reads what is left of the body before answering.
pub async fn linger(State(bound): State<Bound>, request: Request, next: Next) -> Response {
    // HTTP/2 ends a stream without closing the connection; a request without
    // a body has nothing to read.
    if request.version() > Version::HTTP_11 || !has_body(request.headers()) {
        return next.run(request).await;
    }
    let length = content_length(request.headers());
    let asks_first = request.headers().get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let shared = Arc::new(Mutex::new(Shared { body: None, read: 0, polled: false, state: Reading::Open }));
    let request = request.map(|body| {
        lock(&shared).body = Some(body);
        Body::from_stream(Tap(shared.clone()))
    });
    let mut response = next.run(request).await;
    let (body, read, polled) = {
        let mut shared = lock(&shared);
        if shared.state == Reading::Ended {
            return response;
        }
        let failed = shared.state == Reading::Failed;
        shared.state = Reading::Taken;
        (shared.body.take().filter(|_| !failed), shared.read, shared.polled)
    };
    let rest = length.map(|length| length.saturating_sub(read));
    // A client that waits for `100 Continue` before it sends was told to only
    // if the handler asked for the body: otherwise it sends nothing.
    let sending = polled || !asks_first;
    let worth_reading = sending && rest.is_none_or(|rest| rest <= bound.bytes);
    let ended = match body {
        Some(mut body) if worth_reading => tokio::time::timeout(bound.time, read_to_end(&mut body, bound.bytes)).await.unwrap_or(false),
        _ => false,
    };
    if !ended {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether an HTTP/1 request has a body: a `transfer-encoding`, or a
/// `content-length` other than 0.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING) || content_length(headers).is_some_and(|length| length > 0)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads and drops the body to its end, `bytes` at most: whether it ended.
async fn read_to_end(body: &mut Body, mut bytes: u64) -> bool {
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(frame)) => {
                let size = frame.data_ref().map_or(0, |data| data.len() as u64);
                if size > bytes {
                    return false;
                }
                bytes -= size;
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Not read to its end (yet).
    Open,
    /// Read to its end.
    Ended,
    /// Reading it failed (the client went, or stopped for the body timeout).
    Failed,
    /// Taken back by [`linger`] once the answer was made.
    Taken,
}

/// The request's body, between the handler and [`linger`].
struct Shared {
    body: Option<Body>,
    /// Bytes the handler read.
    read: u64,
    /// Whether the handler asked for the body at all.
    polled: bool,
    state: Reading,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The body as the handlers read it: the shared one's data, counted.
struct Tap(Arc<Mutex<Shared>>);

impl Stream for Tap {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut guard = lock(&self.0);
        let shared = &mut *guard;
        shared.polled = true;
        let Some(body) = shared.body.as_mut().filter(|_| shared.state == Reading::Open) else {
            return Poll::Ready(match shared.state {
                Reading::Ended => None,
                _ => Some(Err(axum::Error::new("the request's body is no longer the handler's to read"))),
            });
        };
        loop {
            match Pin::new(&mut *body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    shared.state = Reading::Ended;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    shared.state = Reading::Failed;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    // trailers are dropped, as the handlers read none
                    if let Ok(data) = frame.into_data() {
                        shared.read += data.len() as u64;
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
            }
        }
    }
}
