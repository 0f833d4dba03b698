// Errors as JS Error subclasses with a stable `name`, one per kind the core
// reports, so callers can `catch (e) { if (e instanceof ConflictError) ... }`.
// The core checks every call and names each failure; this file only gives the
// names their classes, which the core then makes its errors with.

/** The base of every error tributary throws. */
export class TributaryError extends Error {
  override name = "TributaryError";
}
/** Another writer saved that version (or moved that position) first; nothing was written. Reload and retry. */
export class ConflictError extends TributaryError {
  override name = "ConflictError";
}
/** A wrong call (bad id, negative version, payload that is not plain JSON...); nothing was written. */
export class ValidationError extends TributaryError {
  override name = "ValidationError";
}
/** An aggregate type, event or topic that nobody defined. */
export class UnknownTopicError extends ValidationError {
  override name = "UnknownTopicError";
}
/** No such aggregate, or not at that version or time. */
export class NotFoundError extends TributaryError {
  override name = "NotFoundError";
}
/** A stored event or snapshot of an old schema version with no upcaster for it. */
export class UpcastError extends TributaryError {
  override name = "UpcastError";
}
/** A stored record that cannot be read; the message names it. */
export class CorruptRecordError extends TributaryError {
  override name = "CorruptRecordError";
}
/** A function you supplied (`apply`, an upcaster, a handler, a policy) threw; nothing of that event was written. */
export class HandlerError extends TributaryError {
  override name = "HandlerError";
}
/** A wait ran out of time. */
export class TimeoutError extends TributaryError {
  override name = "TimeoutError";
}
/** That notification was already processed. */
export class DuplicateTrackingError extends TributaryError {
  override name = "DuplicateTrackingError";
}
/** IndexedDB failed (quota, blocked, closed...); the browser's message is kept. */
export class StorageError extends TributaryError {
  override name = "StorageError";
}
/** The server refused the token: none or a wrong one (401), or one of another tenant (403); the message says which. */
export class AuthError extends TributaryError {
  override name = "AuthError";
}
/** Syncing failed on the way: no network, a server error, a malformed reply. Nothing local changed; live sync retries. */
export class SyncError extends TributaryError {
  override name = "SyncError";
}
/** Stored state cannot be encrypted or decrypted: a missing, malformed or wrong `cipherKey`. Nothing was written. */
export class CipherError extends TributaryError {
  override name = "CipherError";
}
/** tributary hit a bug: its instance was replaced, and the applications open before must be opened again. */
export class InternalError extends TributaryError {
  override name = "InternalError";
}

/** The classes by name: the core makes its errors with them (`useErrorClasses`). */
export const kinds: Record<string, new (message: string, options?: ErrorOptions) => TributaryError> = {
  ConflictError, ValidationError, UnknownTopicError, NotFoundError, UpcastError, CorruptRecordError,
  HandlerError, TimeoutError, DuplicateTrackingError, StorageError, InternalError, AuthError, SyncError, CipherError,
};

/** The typed error for what the core threw (its `name` says the kind). */
export function typed(error: unknown): unknown {
  if (error instanceof TributaryError || !(error instanceof Error)) return error;
  const Kind = Object.hasOwn(kinds, error.name) ? kinds[error.name] : undefined;
  return Kind ? new Kind(error.message, { cause: error }) : error;
}
