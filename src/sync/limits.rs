//! The numbers a sync client and a server must agree on, defined once: the
//! server refuses what goes past them, and the client never asks past them.

/// The most notifications one request pulls or pushes.
pub const MAX_PAGE: usize = 10_000;
/// Events per request of a sync whose options do not say.
pub const BATCH: usize = 1_000;
/// How long a wait for the server's news lasts when the client does not say:
/// under the 30 s after which common proxies drop an idle request.
pub const WAIT_MS: u64 = 25_000;
/// The longest wait for the server's news a client may ask for.
pub const MAX_WAIT_MS: u64 = 60_000;
/// The server's default limit on a request's body.
pub const MAX_BODY_BYTES: usize = 8 << 20;
/// Bytes of stored events a client pushes per request at most: base64 adds a
/// third, and the JSON around them some more, so a push stays under [`MAX_BODY_BYTES`].
pub const PUSH_BYTES: usize = MAX_BODY_BYTES / 2;
