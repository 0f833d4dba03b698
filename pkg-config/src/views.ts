// Views: materialised rows kept up to date from the log. The core projects each
// batch (calling `handle` per event with a writer over its staging) and commits
// it with the view's tracking record in one transaction: exactly once. This file
// reads the view, and tells other tabs what changed.

import { checkOptions, type CoreView } from "../wasm/tributary.js";
import { calling, callingSync } from "./core.js";
import { ValidationError, type TributaryError } from "./errors.js";
import { Runner, type RunnerStatus, type Step } from "./runner.js";
import type { Json } from "./types.js";

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

export type ViewStatus = RunnerStatus;

export interface RowQuery {
  index?: string;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  limit?: number;
}

/**
 * The messages tabs exchange about an application. A view's change says which
 * definition made it (`builtBy`): a tab running other code (other topics or
 * indexes) builds a view of its own, and its positions are not this tab's.
 */
export type Message = { type: "recorded" } | ({ type: "view"; builtBy: string } & ViewChange);

/** The change that says a view was cleared: every key, and no position. */
function cleared(view: string): ViewChange {
  return { view, keys: null, position: 0 };
}

/** A view of an application: read it, wait for it, watch it, rebuild it. */
export class View<R = Json> {
  readonly name: string;
  readonly #core: CoreView;
  readonly #runner: Runner;
  readonly #broadcast: (message: Message) => void;
  /** What this definition's build says of it (see {@link Message}). */
  readonly #builtBy: string;
  readonly #subscribers = new Set<{ listener: (change: ViewChange) => void; key?: string }>();

  /** @internal made by `Application.defineView` (or `defineWorkflows`). */
  constructor(core: CoreView, lock: string | null, broadcast: (message: Message) => void) {
    this.name = core.name;
    this.#builtBy = core.builtBy;
    this.#core = core;
    this.#broadcast = broadcast;
    this.#runner = new Runner(`view ${this.name}`, lock, () => core.step(), () => core.forget(), (step) => this.#stepped(step));
  }

  /** @internal replaces the handler (after a fix) and resumes from the last good position. */
  redefine(definition: ViewDefinition<R>): void {
    callingSync(() => this.#core.redefine(definition));
    this.start();
  }

  /** One row, or undefined. */
  get(key: string): Promise<R | undefined> {
    return calling(() => this.#core.get(key));
  }

  /** Rows in index order, within the bounds: `query({ index: "count", gte: 2 })`. */
  query(query?: RowQuery): Promise<{ key: string; value: R }[]> {
    return calling(() => this.#core.query(query));
  }

  /** Every row, in key order. */
  all(): Promise<{ key: string; value: R }[]> {
    return this.query();
  }

  /** Resolves once the view has processed `notificationId`; a TimeoutError after `timeoutMs` (default 5000). */
  wait(notificationId: number, options?: { timeoutMs?: number }): Promise<void> {
    return this.#runner.wait(notificationId, (wanted) => this.#core.wait(notificationId, options, wanted));
  }

  /** Calls `listener` after each committed change (of `key`, if given), in this tab or another. Returns an unsubscribe function. */
  subscribe(listener: (change: ViewChange) => void, options?: { key?: string }): () => void {
    if (typeof listener !== "function") throw new ValidationError("subscribe takes a listener function");
    const { key }: { key?: string } = callingSync(() => checkOptions(options, "subscribe options", ["key"], []));
    const entry = { listener, key };
    this.#subscribers.add(entry);
    return () => void this.#subscribers.delete(entry);
  }

  /** Drops the rows and projects the whole log again, reporting progress; saves go on meanwhile. */
  async rebuild(options?: { onProgress?: (progress: { processed: number; total: number }) => void }): Promise<void> {
    const { onProgress }: { onProgress?: (progress: { processed: number; total: number }) => void } = callingSync(() =>
      checkOptions(options, "rebuild options", [], ["onProgress"]),
    );
    await this.#runner.exclusive(async () => {
      await calling(() => this.#core.clear());
      this.#runner.reset();
      this.#changed(cleared(this.name));
      await this.#runner.catchUp((step) => {
        try {
          onProgress?.({ processed: step.position, total: step.head });
        } catch (error) {
          // The caller's progress report failed, not the view: it goes on, as after a listener's.
          console.error(`tributary: onProgress of the rebuild of ${this.name} threw`, error);
        }
      });
      this.#changed({ view: this.name, keys: null, position: this.#runner.status().position });
    });
    const status = this.#runner.status();
    if (status.error) throw status.error;
  }

  /** Where the view is, and whether its handler failed. */
  status(): ViewStatus {
    return this.#runner.status();
  }

  /** Catches up now (and after a failure, tries again from the last good position); a StorageError once its application closed. */
  start(): void {
    this.#runner.start();
  }

  /** @internal new events may be there. */
  poke(): void {
    this.#runner.poke();
  }

  /** @internal its application closed: no more steps. */
  stop(why: TributaryError): void {
    this.#runner.stop(why);
  }

  /**
   * @internal sync removed events this view may have seen, and cleared it: it starts
   * again from the beginning. Rows are gone that no step will name, so every key changed.
   */
  restart(): void {
    this.#runner.reset();
    this.#changed(cleared(this.name));
    this.#runner.start();
  }

  /** @internal another tab changed the view. */
  heard({ builtBy, view, keys, position }: Message & { type: "view" }): void {
    if (builtBy !== this.#builtBy) return;
    // Cleared there (a rebuild, or sync): what this tab knew of its position is past.
    if (keys === null && position === 0) this.#runner.cleared();
    else this.#runner.heard(position);
    this.#notify({ view, keys, position });
  }

  #stepped(step: Step): void {
    if (step.changed.length > 0) this.#changed({ view: this.name, keys: step.changed, position: step.position });
  }

  #changed(change: ViewChange): void {
    this.#notify(change);
    this.#broadcast({ type: "view", builtBy: this.#builtBy, ...change });
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
