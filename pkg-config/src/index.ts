// tributary: event sourcing in the browser. See the README for the API.
export { openApplication, Application } from "./application.js";
export { init } from "./core.js";
export type { WasmSource } from "./core.js";
export { View } from "./views.js";
export { Follower } from "./follow.js";
export { Sync } from "./sync.js";
export { Live, liveView, liveAggregate, liveSyncStatus } from "./live.js";
export type { LiveState } from "./live.js";
export type { SyncOptions, SyncStatus, SyncProgress, SyncChange, SyncConflict } from "./sync.js";
export type { FollowDefinition, FollowerStatus, PolicyRequest } from "./follow.js";
export type { ViewDefinition, ViewEvent, ViewWriter, ViewChange, ViewStatus, RowQuery } from "./views.js";
export {
  TributaryError, ConflictError, ValidationError, UnknownTopicError, NotFoundError, UpcastError,
  CorruptRecordError, HandlerError, TimeoutError, DuplicateTrackingError, StorageError, InternalError, AuthError, SyncError, CipherError,
} from "./errors.js";
export type { RunnerStatus } from "./runner.js";
export type * from "./types.js";
export type {
  WorkflowTypes, WorkflowRunState, TaskState, JobAccountingRow, JobProgressRow, WorkflowProgressRow, TaskAnalyticsRow, TaskStatistics,
} from "./workflow.js";
