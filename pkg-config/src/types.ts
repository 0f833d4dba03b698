// The types of the API. Aggregate and event names, event data and state are
// generic, so an editor completes them once `defineAggregate` has typed them.

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where an application keeps its log. */
export type Storage = "indexeddb" | "memory";

export interface OpenOptions {
  /** Default "indexeddb": persistent, shared by the origin's tabs. */
  storage?: Storage;
  /** Take a snapshot each time an aggregate of this type reaches a multiple of N. */
  snapshotEvery?: Record<string, number>;
  /** Keep only the newest K snapshots of each aggregate. */
  keepSnapshots?: number;
  /** Notifications per log section (default 10, as in Python). */
  sectionSize?: number;
  /**
   * The topics aggregate types are stored under, for Python peers:
   * `{ Dog: "dogschool:Dog" }` stores `Dog`'s events as `dogschool:Dog.Registered`
   * (the Created event naming `originator_topic: "dogschool:Dog"`), and reads
   * events stored under either name as `Dog`'s.
   */
  topics?: Record<string, string>;
  /** Compress stored state with zlib, as Python's `COMPRESSOR_TOPIC=eventsourcing.compressor:ZlibCompressor`. */
  compress?: boolean;
  /**
   * Encrypt stored state with AES-GCM under this key: standard base64 of 16, 24 or
   * 32 bytes, as Python's `CIPHER_KEY`. Kept in memory only; opening a log stored
   * under another key (or without this one) is a `CipherError`.
   */
  cipherKey?: string;
}

/** What `apply` learns about an event besides its data. */
export interface EventMeta {
  originatorId: string;
  originatorVersion: number;
  aggregate: string;
  type: string;
  timestamp: Date;
}

/** Event name -> the data that event carries. */
export type EventMap = Record<string, object>;

/**
 * An aggregate type: its state before any event, and how each event changes it.
 * State and data must be plain JSON (they are stored, snapshotted and sent to servers).
 */
export interface AggregateDefinition<S, E extends EventMap> {
  initial: () => S;
  apply: { [K in keyof E]: (state: S, data: E[K], meta: EventMeta) => S };
  /** Schema version of the state (for snapshots); default 1. */
  schemaVersion?: number;
  /**
   * The version of the first event: 1 (default) or 0, as Python aggregates with
   * `INITIAL_VERSION = 0` (BIOMERO's). Such an aggregate's `expectedVersion` is
   * -1 while it does not exist yet.
   */
  initialVersion?: 0 | 1;
  /** Schema version per event; default 1. */
  eventVersions?: { [K in keyof E]?: number };
  /**
   * Fields holding UUID strings, by event name: stored as Python's `uuid_hex`
   * custom type, so that a Python aggregate reading the event gets a `UUID`
   * (as one declaring the attribute `UUID` wrote it). Read back as UUID strings.
   */
  uuidFields?: { [K in keyof E]?: string[] };
  /**
   * Upcasters by event name (or "snapshot" for the state), then by the version
   * they upcast from: `{ Registered: { 1: (data) => ({ ...data, breed: "unknown" }) } }`.
   */
  upcasters?: { [K in keyof E | "snapshot"]?: Record<number, (data: any) => any> };
}

/** The aggregate types an application knows: name -> state and events. */
export type Types = Record<string, { state: unknown; events: EventMap }>;

/** Aggregate names: precise once defined, any string before. */
export type AggregateName<T extends Types> = [keyof T] extends [never] ? string : keyof T & string;
export type EventName<T extends Types, N extends string> = N extends keyof T ? keyof T[N]["events"] & string : string;
export type EventData<T extends Types, N extends string, K extends string> = N extends keyof T
  ? K extends keyof T[N]["events"] ? T[N]["events"][K] : never
  : { [key: string]: Json };
export type State<T extends Types, N extends string> = N extends keyof T ? T[N]["state"] : unknown;

/** Where a recorded event went. */
export interface Recorded {
  id: string;
  version: number;
  notificationId: number;
}

/** An aggregate as of some version. */
export interface AggregateView<S> {
  id: string;
  aggregate: string;
  version: number;
  state: S;
  createdOn: Date;
  modifiedOn: Date;
}

/** A stored event, decoded. */
export interface EventView<D = { [key: string]: Json }> extends EventMeta {
  data: D;
}

/** A notification: an event with its place in the application's log. */
export interface Notification extends EventView {
  notificationId: number;
  topic: string;
}

/** One event of `recordMany`. */
export type RecordRequest<T extends Types> = {
  [N in AggregateName<T>]: {
    [K in EventName<T, N>]: {
      aggregate: N;
      /** Omit to create a new aggregate with a random id. */
      id?: string;
      event: K;
      data: EventData<T, N, K>;
      /** The aggregate's version before this event (0, or -1 for a type with `initialVersion: 0`: must not exist yet; -1 works for any type). */
      expectedVersion?: number;
    };
  }[EventName<T, N>];
}[AggregateName<T>];

/** A section of the log, as the Python library's `NotificationLogJSONService` serves it. */
export interface Section {
  id: string | null;
  next_id: string | null;
  items: { id: number; originator_id: string; originator_version: number; topic: string; state: string }[];
}
