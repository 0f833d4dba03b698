//! The kinds of error, defined once: each one's name (the JavaScript class, and the
//! server's `"error"`), the class it extends, the HTTP statuses the server answers
//! it with, what it means and what to do. The facade's classes
//! (`pkg-config/src/errors.ts`), the server's answers and `docs/errors.md` are
//! checked against [`KINDS`] by `tests/error_kinds.rs`.

/// A kind of error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    Conflict,
    Validation,
    UnknownTopic,
    NotFound,
    Upcast,
    CorruptRecord,
    Handler,
    Timeout,
    DuplicateTracking,
    Storage,
    Auth,
    Sync,
    Cipher,
    Internal,
    PayloadTooLarge,
    MethodNotAllowed,
    Unavailable,
}

/// Every kind, in the order the docs list them.
pub const KINDS: [Kind; 17] = [
    Kind::Conflict,
    Kind::Validation,
    Kind::UnknownTopic,
    Kind::NotFound,
    Kind::Upcast,
    Kind::CorruptRecord,
    Kind::Handler,
    Kind::Timeout,
    Kind::DuplicateTracking,
    Kind::Storage,
    Kind::Auth,
    Kind::Sync,
    Kind::Cipher,
    Kind::Internal,
    Kind::PayloadTooLarge,
    Kind::MethodNotAllowed,
    Kind::Unavailable,
];

/// Where a kind is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Thrown by the library (and answered by the server where it applies).
    Everywhere,
    /// Answered by the server only: a client sees it as a [`Kind::Sync`] naming the status.
    Server,
}

impl Kind {
    /// The stable name: the JavaScript class's `name`, the server's `"error"`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Conflict => "ConflictError",
            Kind::Validation => "ValidationError",
            Kind::UnknownTopic => "UnknownTopicError",
            Kind::NotFound => "NotFoundError",
            Kind::Upcast => "UpcastError",
            Kind::CorruptRecord => "CorruptRecordError",
            Kind::Handler => "HandlerError",
            Kind::Timeout => "TimeoutError",
            Kind::DuplicateTracking => "DuplicateTrackingError",
            Kind::Storage => "StorageError",
            Kind::Auth => "AuthError",
            Kind::Sync => "SyncError",
            Kind::Cipher => "CipherError",
            Kind::Internal => "InternalError",
            Kind::PayloadTooLarge => "PayloadTooLargeError",
            Kind::MethodNotAllowed => "MethodNotAllowedError",
            Kind::Unavailable => "UnavailableError",
        }
    }

    /// The kind whose class this one's extends (`TributaryError` when none).
    pub const fn parent(self) -> Option<Kind> {
        match self {
            Kind::UnknownTopic => Some(Kind::Validation),
            _ => None,
        }
    }

    /// The HTTP statuses the server answers this kind with, the usual one first
    /// (500 for what only a bug or a broken disk causes there).
    pub const fn statuses(self) -> &'static [u16] {
        match self {
            Kind::Conflict | Kind::DuplicateTracking => &[409],
            Kind::Validation | Kind::UnknownTopic => &[400],
            Kind::NotFound => &[404],
            Kind::Auth => &[401, 403],
            Kind::Timeout => &[504, 408],
            Kind::PayloadTooLarge => &[413],
            Kind::MethodNotAllowed => &[405],
            Kind::Unavailable => &[503],
            Kind::Upcast | Kind::CorruptRecord | Kind::Handler | Kind::Storage | Kind::Sync | Kind::Cipher | Kind::Internal => &[500],
        }
    }

    /// Where it is met.
    pub const fn side(self) -> Side {
        match self {
            Kind::PayloadTooLarge | Kind::MethodNotAllowed | Kind::Unavailable => Side::Server,
            _ => Side::Everywhere,
        }
    }

    /// When it happens, in one line.
    pub const fn meaning(self) -> &'static str {
        match self {
            Kind::Conflict => "another writer saved that version (or moved that position) first; nothing was written",
            Kind::Validation => "a wrong call: a bad id, a negative version, data that is not plain JSON, bad options; nothing was written",
            Kind::UnknownTopic => "an aggregate type, event or topic nobody defined",
            Kind::NotFound => "no such aggregate, or not at that version or time; on the server, no such route",
            Kind::Upcast => "a stored event or snapshot of an old schema version with no upcaster for it",
            Kind::CorruptRecord => "a stored record cannot be read; the message names it",
            Kind::Handler => "a function you supplied (`apply`, an upcaster, a view's handler, a policy) threw; nothing of that event was written",
            Kind::Timeout => "a wait ran out of time; on the server, a request body that stopped coming",
            Kind::DuplicateTracking => "that notification was already processed",
            Kind::Storage => "the storage failed: quota, closed, deleted or upgraded by another tab, a database of a newer release; its own message is kept",
            Kind::Auth => "the server refused the token: none or a wrong one (401), or one of another tenant (403)",
            Kind::Sync => "syncing failed on the way: no network, a server error, a malformed reply; nothing local changed",
            Kind::Cipher => "stored state cannot be encrypted or decrypted: a missing, malformed or wrong cipher key; nothing was written",
            Kind::Internal => "tributary hit a bug; in a page, its WebAssembly instance was replaced",
            Kind::PayloadTooLarge => "a request body over the server's limit",
            Kind::MethodNotAllowed => "a route asked with a method it does not serve",
            Kind::Unavailable => "every store the server may keep open is busy",
        }
    }

    /// What a caller does about it, in one line (empty: nothing to do but read the message).
    pub const fn remedy(self) -> &'static str {
        match self {
            Kind::Conflict => "reload the aggregate and decide again",
            Kind::Validation => "fix the call",
            Kind::UnknownTopic => "define it (`defineAggregate`), or rename the old topic",
            Kind::NotFound => "",
            Kind::Upcast => "add an upcaster",
            Kind::CorruptRecord => "",
            Kind::Handler => "fix that function",
            Kind::Timeout => "wait longer, or check `status()`",
            Kind::DuplicateTracking => "skip it",
            Kind::Storage => "reload, free space, or update the app",
            Kind::Auth => "fix the token; live sync stops",
            Kind::Sync => "nothing: live sync retries with back-off",
            Kind::Cipher => "open with the key the log was stored with",
            Kind::Internal => "open your applications again, and report it",
            Kind::PayloadTooLarge => "send less per request (`batch`), or raise `--max-body-bytes`",
            Kind::MethodNotAllowed => "",
            Kind::Unavailable => "try again; raise `--max-open-applications`",
        }
    }

    /// The kind of this name.
    pub fn named(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|kind| kind.name() == name)
    }
}
