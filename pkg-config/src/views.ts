// Views: materialised rows kept up to date from the log. The core applies each
// batch of events with its tracking record in one transaction (exactly once);
// this file runs the handler, decides when to step, and tells other tabs.
//
// One tab at a time runs a view (a Web Lock per view); every tab reads it.
// A tab that records events, or commits a view's batch, says so on a
// BroadcastChannel, so other tabs step their runners and call their subscribers.

import type { Core } from "../wasm/tributary.js";
import { calling, callingSync, HandlerError, ValidationError } from "./errors.js";
import { checkPayload, checkVersion, type Json } from "./json.js";

/** The event a view's handler gets. */
export interface ViewEvent<D = { [key: string]: Json }> {
  notificationId: number;
  originatorId: string;
  originatorVersion: number;
  aggregate: string;
  type: string;
  topic: string;
  timestamp: Date;
  data: D;
}

/** What a handler reads and changes: the view as this batch has left it so far. */
export interface ViewWriter<R = Json> {
  get(key: string): Promise<R | undefined>;
  put(key: string, row: R): void;
  delete(key: string): void;
}

export interface ViewDefinition<R = Json> {
  /** "Aggregate.Event" topics to project (all events when omitted). */
  topics?: string[];
  /** Row fields to index, for `query({ index, ... })`. Numbers and strings are indexed. */
  indexes?: string[];
  handle: (event: ViewEvent<any>, view: ViewWriter<R>) => void | Promise<void>;
}

export interface ViewChange {
  view: string;
  /** Keys changed (all of them after a rebuild: `null`). */
  keys: string[] | null;
  position: number;
}

export interface ViewStatus {
  position: number;
  state: "idle" | "running" | "failed";
  error?: HandlerError;
  failedAt?: number;
}

export interface RowQuery {
  index?: string;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  limit?: number;
}

interface Step {
  position: number;
  head: number;
  applied: number;
  changed: string[];
  failed: { notificationId: number; name: string; message: string } | null;
}

/** The messages tabs exchange about an application. */
export type Message = { type: "recorded" } | ({ type: "view" } & ViewChange);

/**
 * Rows known to be committed, for one catch-up session: while this tab holds the
 * view's lock nobody else writes it, so a batch need not read them again.
 */
interface Session<R> {
  rows: Map<string, R | null>;
  /** The last batch's reads and changes, merged into `rows` once committed. */
  batch?: { read: Map<string, R | null>; changes: Map<string, R | null> };
}

/** The batch processor the core calls: runs `handle` per event, rolling back a failing event's changes. */
function processor<R>(core: Core, name: string, handle: ViewDefinition<R>["handle"], session: () => Session<R>) {
  return async (eventsJson: string): Promise<string> => {
    const changes = new Map<string, R | null>();
    const read = new Map<string, R | null>();
    const known = session();
    known.batch = { read, changes };
    let undo: [string, R | null | undefined][] = [];
    const change = (key: string, row: R | null) => {
      undo.push([key, changes.get(key)]);
      changes.set(key, row);
    };
    const writer: ViewWriter<R> = {
      async get(key) {
        checkKey(key);
        for (const rows of [changes, read, known.rows]) {
          if (rows.has(key)) {
            const row = rows.get(key)!;
            return row === null ? undefined : structuredClone(row);
          }
        }
        const row = JSON.parse(await core.viewGet(name, key)) as R | null;
        read.set(key, row);
        return row === null ? undefined : structuredClone(row);
      },
      put(key, row) {
        checkKey(key);
        checkPayload({ row }, `the row ${JSON.stringify(key)} of view ${name}`);
        change(key, structuredClone(row));
      },
      delete(key) {
        checkKey(key);
        change(key, null);
      },
    };
    const events = JSON.parse(eventsJson) as ViewEvent[];
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      undo = [];
      try {
        await handle({ ...event, timestamp: new Date(event.timestamp) }, writer);
      } catch (error) {
        for (const [key, before] of undo.reverse()) before === undefined ? changes.delete(key) : changes.set(key, before);
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return JSON.stringify({ changes: Object.fromEntries(changes), failed: { index, message } });
      }
    }
    return JSON.stringify({ changes: Object.fromEntries(changes), failed: null });
  };
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "") throw new ValidationError(`a row key must be a non-empty string, not ${JSON.stringify(key)}`);
}

/** A view of an application: read it, wait for it, watch it, rebuild it. */
export class View<R = Json> {
  readonly name: string;
  readonly #core: Core;
  readonly #lock: string | null;
  readonly #broadcast: (message: Message) => void;
  readonly #subscribers = new Set<{ listener: (change: ViewChange) => void; key?: string }>();
  #position = 0;
  #state: ViewStatus["state"] = "idle";
  #failure?: { error: HandlerError; at: number };
  #wanted = false;
  #session: Session<R> = { rows: new Map() };
  /** Bumped by each (re)definition: a failure of an older handler does not count. */
  #generation = 0;
  /** Waits to fail when the view stops short of what they wait for. */
  readonly #waiters = new Set<(failure: { error: HandlerError; at: number }) => void>();
  #queue: Promise<unknown> = Promise.resolve();

  /** @internal made by `Application.defineView` (or, for views defined in the core, without a definition). */
  constructor(core: Core, name: string, lock: string | null, broadcast: (message: Message) => void, definition?: ViewDefinition<R>) {
    this.name = name;
    this.#core = core;
    this.#lock = lock;
    this.#broadcast = broadcast;
    if (definition) this.#define(definition);
  }

  /** @internal replaces the handler (after a fix) and starts again from the last good position. */
  redefine(definition: ViewDefinition<R>): void {
    this.#define(definition);
    this.start();
  }

  #define({ topics = [], indexes = [], handle }: ViewDefinition<R>): void {
    if (typeof handle !== "function") throw new ValidationError(`view ${this.name} needs a handle(event, view) function`);
    this.#generation++;
    const process = processor(this.#core, this.name, handle, () => this.#session);
    callingSync(() => this.#core.defineView(this.name, JSON.stringify({ topics, indexes }), process));
  }


  /** One row, or undefined. */
  async get(key: string): Promise<R | undefined> {
    checkKey(key);
    const row = JSON.parse(await calling(() => this.#core.viewGet(this.name, key)));
    return row === null ? undefined : row;
  }

  /** Rows in index order, within the bounds: `query({ index: "count", gte: 2 })`. */
  async query(query: RowQuery = {}): Promise<{ key: string; value: R }[]> {
    if (query.limit !== undefined) checkVersion(query.limit, "limit", 0);
    return JSON.parse(await calling(() => this.#core.viewQuery(this.name, JSON.stringify(query))));
  }

  /** Every row, in key order. */
  async all(): Promise<{ key: string; value: R }[]> {
    return this.query();
  }

  /** Resolves once the view has processed `notificationId`; a TimeoutError after `timeoutMs` (default 5000). */
  async wait(notificationId: number, { timeoutMs = 5000 }: { timeoutMs?: number } = {}): Promise<void> {
    checkVersion(notificationId, "notificationId", 0);
    checkVersion(timeoutMs, "timeoutMs", 0);
    if (this.#failure && notificationId >= this.#failure.at) throw this.#failure.error;
    let waiter!: (failure: { error: HandlerError; at: number }) => void;
    const failed = new Promise<never>((_, reject) => {
      waiter = (failure) => notificationId >= failure.at && reject(failure.error);
    });
    this.#waiters.add(waiter);
    try {
      this.poke();
      await Promise.race([calling(() => this.#core.viewWait(this.name, notificationId, timeoutMs)), failed]);
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  /** Calls `listener` after each committed change (of `key`, if given), in this tab or another. Returns an unsubscribe function. */
  subscribe(listener: (change: ViewChange) => void, { key }: { key?: string } = {}): () => void {
    const entry = { listener, key };
    this.#subscribers.add(entry);
    return () => this.#subscribers.delete(entry);
  }

  /** Drops the rows and projects the whole log again, reporting progress; saves go on meanwhile. */
  async rebuild({ onProgress }: { onProgress?: (progress: { processed: number; total: number }) => void } = {}): Promise<void> {
    await this.#exclusive(async () => {
      await calling(() => this.#core.viewClear(this.name));
      this.#failure = undefined;
      this.#position = 0;
      await this.#catchUp((step) => onProgress?.({ processed: step.position, total: step.head }));
      this.#changed({ view: this.name, keys: null, position: this.#position });
    });
    if (this.#failure) throw this.#failure.error;
  }

  /** Where the view is, and whether its handler failed. */
  status(): ViewStatus {
    const state = this.#failure ? "failed" : this.#state;
    return { position: this.#position, state, ...(this.#failure ? { error: this.#failure.error, failedAt: this.#failure.at } : {}) };
  }

  /** Catches up now (and after a failure, tries again from the last good position). */
  start(): void {
    this.#failure = undefined;
    this.#poke();
  }

  /** @internal new events may be there. */
  poke(): void {
    if (!this.#failure) this.#poke();
  }

  /** @internal another tab changed the view. */
  heard(change: ViewChange): void {
    this.#position = Math.max(this.#position, change.position);
    this.#notify(change);
  }

  /** Steps until caught up, under the view's lock, at most one run queued. */
  #poke(): void {
    if (this.#wanted) return;
    this.#wanted = true;
    void this.#exclusive(async () => {
      this.#wanted = false;
      if (!this.#failure) await this.#catchUp();
    }).catch(() => {});
  }

  async #catchUp(onStep?: (step: Step) => void): Promise<void> {
    const generation = this.#generation;
    this.#state = "running";
    const session: Session<R> = { rows: new Map() };
    this.#session = session;
    try {
      for (;;) {
        const step = JSON.parse(await calling(() => this.#core.viewStep(this.name))) as Step;
        this.#position = step.position;
        // Keep what this step committed; anything else, and the session starts afresh.
        const batch = session.batch;
        session.batch = undefined;
        if (batch && step.applied > 0 && !step.failed) for (const rows of [batch.read, batch.changes]) for (const [k, v] of rows) session.rows.set(k, v);
        else if (batch) session.rows.clear();
        onStep?.(step);
        if (step.changed.length > 0) this.#changed({ view: this.name, keys: step.changed, position: step.position });
        if (step.failed && generation !== this.#generation) {
          this.#poke(); // that was the old handler: try the new one
          return;
        }
        if (step.failed) {
          const failure = { error: new HandlerError(step.failed.message), at: step.failed.notificationId };
          this.#failure = failure;
          for (const waiter of this.#waiters) waiter(failure);
          console.error(`tributary: view ${this.name} stopped at notification ${step.failed.notificationId}:`, step.failed.message);
          return;
        }
        if (step.position >= step.head) return;
      }
    } finally {
      this.#state = "idle";
    }
  }

  /** Runs `task` after this tab's earlier tasks, holding the view's Web Lock (IndexedDB only). */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const lock = this.#lock;
    const locked = (): Promise<T> => (lock && globalThis.navigator?.locks ? (navigator.locks.request(lock, task) as Promise<T>) : task());
    const run = this.#queue.then(locked, locked);
    this.#queue = run.catch(() => {});
    return run;
  }

  #changed(change: ViewChange): void {
    this.#notify(change);
    this.#broadcast({ type: "view", ...change });
  }

  #notify(change: ViewChange): void {
    for (const { listener, key } of this.#subscribers) {
      if (key === undefined || change.keys === null || change.keys.includes(key)) {
        try {
          listener(change);
        } catch (error) {
          console.error(`tributary: a subscriber of view ${this.name} threw`, error);
        }
      }
    }
  }
}
