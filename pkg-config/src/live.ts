// Live queries: a value read from tributary and read again whenever it may have
// changed, for any framework. A `Live` is a Svelte store as it is
// (`subscribe(run)` calls `run` at once and on each change, and returns an
// unsubscribe function), and what React's `useSyncExternalStore` and Vue's
// `shallowRef` take: `subscribe` and a `current` value that keeps its identity
// until the value changes. It listens to tributary only while subscribed.

import type { Application } from "./application.js";
import { typed, type TributaryError } from "./errors.js";
import type { Sync, SyncStatus } from "./sync.js";
import type { AggregateName, AggregateView, Json, State, Types } from "./types.js";
import type { RowQuery, View } from "./views.js";

/** What a live query holds now. */
export interface LiveState<T> {
  /** True until the first read answered. */
  readonly loading: boolean;
  /** The last value read (kept when a later read fails). */
  readonly value: T | undefined;
  /** Why the last read failed, if it did (a NotFoundError for an aggregate not created yet). */
  readonly error?: TributaryError;
}

/** A value kept current: `subscribe(listener)` and `current`. */
export class Live<T> {
  readonly #read: () => Promise<T>;
  readonly #watch: (changed: () => void) => () => void;
  readonly #listeners = new Set<(state: LiveState<T>) => void>();
  #state: LiveState<T> = { loading: true, value: undefined };
  #unwatch?: () => void;
  /** A read is under way; another was asked for meanwhile. */
  #reading = false;
  #again = false;

  /** `read` gives the value; `watch(changed)` calls `changed` when it may differ, and returns how to stop. */
  constructor(read: () => Promise<T>, watch: (changed: () => void) => () => void) {
    this.#read = read;
    this.#watch = watch;
  }

  /** The state now: the same object until the value, the loading flag or the error changes. */
  get current(): LiveState<T> {
    return this.#state;
  }

  /** Calls `listener` now and after each change. Returns an unsubscribe function. (A stable function: pass it as it is.) */
  readonly subscribe = (listener: (state: LiveState<T>) => void): (() => void) => {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#unwatch = this.#watch(() => this.#refresh());
      this.#refresh();
    }
    listener(this.#state);
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) {
        this.#unwatch?.();
        this.#unwatch = undefined;
      }
    };
  };

  /** How many listeners it has (0 once every subscriber left: then it listens to nothing). */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** Reads again; changes coming while a read is under way make one more read after it. */
  #refresh(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    this.#read().then(
      (value) => this.#settle({ loading: false, value }),
      (error: unknown) => this.#settle({ loading: false, value: this.#state.value, error: typed(error) as TributaryError }),
    );
  }

  #settle(state: LiveState<T>): void {
    this.#reading = false;
    if (this.#again) {
      this.#again = false;
      if (this.#listeners.size > 0) this.#refresh();
    }
    if (same(state, this.#state)) return;
    this.#state = state;
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch (error) {
        console.error("tributary: a listener of a live query threw", error);
      }
    }
  }
}

/** Whether two states show the same: values compared as JSON (rows and aggregates are JSON, dates as ISO text). */
function same<T>(a: LiveState<T>, b: LiveState<T>): boolean {
  return a.loading === b.loading && a.error?.message === b.error?.message && a.error?.name === b.error?.name && JSON.stringify(a.value) === JSON.stringify(b.value);
}

/** A view's row `{ key }` (undefined while absent), or the rows of `{ query }`, kept current. */
export function liveView<R = Json>(view: View<R>, options: { key: string }): Live<R | undefined>;
export function liveView<R = Json>(view: View<R>, options: { query: RowQuery }): Live<{ key: string; value: R }[]>;
// `any`: the overloads above type it.
export function liveView<R = Json>(view: View<R>, options: { key: string } | { query: RowQuery }): Live<any> {
  if ("key" in options) {
    const { key } = options;
    return new Live(() => view.get(key), (changed) => view.subscribe(changed, { key }));
  }
  const { query } = options;
  return new Live(() => view.query(query), (changed) => view.subscribe(changed));
}

/** An aggregate as it is now (state and version), kept current: read again when the log grows here, in another tab or by a sync. */
export function liveAggregate<T extends Types, N extends AggregateName<T>>(app: Application<T>, aggregate: N, id: string): Live<AggregateView<State<T, N>>> {
  return new Live(() => app.get(aggregate, id), (changed) => app.subscribe(changed));
}

/** A sync's status, kept current. */
export function liveSyncStatus(sync: Sync): Live<SyncStatus> {
  return new Live(async () => sync.status(), (changed) => sync.subscribe((change) => change.type === "status" && changed()));
}
