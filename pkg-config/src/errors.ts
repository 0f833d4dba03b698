// Errors as JS Error subclasses with a stable `name`, one per kind the core
// reports, so callers can `catch (e) { if (e instanceof ConflictError) ... }`.

/** The base of every error tributary throws. */
export class TributaryError extends Error {
  override name = "TributaryError";
}
/** Another writer saved that version first; nothing was written. Reload and retry. */
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
/** A function you supplied (`apply`, an upcaster) threw; nothing was written. */
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

const kinds: Record<string, new (message: string, options?: ErrorOptions) => TributaryError> = {
  ConflictError, ValidationError, UnknownTopicError, NotFoundError, UpcastError, CorruptRecordError,
  HandlerError, TimeoutError, DuplicateTrackingError, StorageError,
};

/** The typed error for what the core threw (its `name` says the kind). */
export function typed(error: unknown): unknown {
  if (error instanceof TributaryError || !(error instanceof Error)) return error;
  const Kind = kinds[error.name];
  return Kind ? new Kind(error.message, { cause: error }) : error;
}

/** Runs a core call, turning what it throws into typed errors. */
export async function calling<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw typed(error);
  }
}

/** Runs a synchronous core call, turning what it throws into typed errors. */
export function callingSync<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw typed(error);
  }
}
