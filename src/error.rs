//! The one error type of tributary. Each variant says what went wrong and how a
//! caller should react; none of them is ever a panic.

mod kind;

pub use kind::{Kind, Side, KINDS};
use uuid::Uuid;

/// `Result` with tributary's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by what it means for the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// This version is taken (another writer saved it first), or is not next
    /// (an expected version the aggregate is not at). Nothing of the batch was
    /// written: reload the aggregate and decide again. The message does not say
    /// "taken": `detail` says which.
    #[error("conflict: aggregate {originator_id} cannot take version {originator_version} ({detail}); reload it and retry")]
    Conflict {
        originator_id: Uuid,
        originator_version: u64,
        /// The storage's own words, kept for diagnosis.
        detail: String,
    },
    /// This upstream notification was already tracked: its effects exist, skip it.
    #[error("notification {notification_id} is already tracked for {application_name:?}")]
    DuplicateTracking { application_name: String, notification_id: u64 },
    /// A compare-and-set found the position moved: another writer got there first.
    /// Nothing was written: read the position again and redo the work from there.
    #[error("{application_name:?} is no longer at position {expected:?} but at {found:?}: another writer moved it; nothing was written")]
    Stale { application_name: String, expected: Option<u64>, found: Option<u64> },
    /// The call was wrong (a nil id, version 0, a payload that is not an object...).
    /// Nothing was written: fix the call.
    #[error("invalid input: {0}")]
    Validation(String),
    /// There is no such aggregate, or not at that version or time.
    #[error("not found: {0}")]
    NotFound(String),
    /// A topic that no registered event type or rename knows: register it.
    #[error("unknown aggregate type or topic {0:?}: define it (defineAggregate in JavaScript, register in Rust), or rename an old topic")]
    UnknownTopic(String),
    /// A stored record has an old schema version and nothing upcasts it.
    #[error("no upcaster for {topic:?} from schema version {from}: register one")]
    MissingUpcaster { topic: String, from: u32 },
    /// A stored record cannot be read as what it claims to be.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// A wait ran out of time before what it waited for happened.
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout { waited_ms: u64, what: String },
    /// A function the caller supplied (an `apply`, an upcaster, a handler)
    /// failed; nothing was written. Fix that function.
    #[error("{0}")]
    Handler(String),
    /// The storage failed; the message is the storage's own.
    #[error("storage error: {0}")]
    Storage(String),
    /// The server refused the credentials: no token or a wrong one (401), or a
    /// token of another tenant (403). Nothing was sent or received: fix the token.
    #[error("not authorised: {0}")]
    Auth(String),
    /// Syncing failed on the way: no network, a server error, a malformed or
    /// hostile reply. Nothing local was changed by it; it is safe to try again.
    #[error("sync failed: {0}")]
    Sync(String),
    /// Stored state cannot be encrypted or decrypted as asked: a missing, malformed
    /// or wrong cipher key. Nothing was written: open with the key it was stored with.
    #[error("cipher: {0}")]
    Cipher(String),
}

impl Error {
    /// What kind of error this is (its name, status and meaning: [`Kind`]).
    pub fn kind(&self) -> Kind {
        match self {
            Error::Conflict { .. } | Error::Stale { .. } => Kind::Conflict,
            Error::DuplicateTracking { .. } => Kind::DuplicateTracking,
            Error::Validation(_) => Kind::Validation,
            Error::NotFound(_) => Kind::NotFound,
            Error::UnknownTopic(_) => Kind::UnknownTopic,
            Error::MissingUpcaster { .. } => Kind::Upcast,
            Error::Corrupt(_) => Kind::CorruptRecord,
            Error::Timeout { .. } => Kind::Timeout,
            Error::Handler(_) => Kind::Handler,
            Error::Storage(_) => Kind::Storage,
            Error::Auth(_) => Kind::Auth,
            Error::Sync(_) => Kind::Sync,
            Error::Cipher(_) => Kind::Cipher,
        }
    }

    /// A stable name for the kind of error, used as the JavaScript `Error.name`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// A [`Error::Validation`]: for adapters and applications outside the crate too.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    /// A [`Error::Corrupt`].
    pub fn corrupt(message: impl Into<String>) -> Self {
        Error::Corrupt(message.into())
    }
}
