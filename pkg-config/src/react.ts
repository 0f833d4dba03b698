// tributary/react: hooks over live queries (./live.ts), built on React's
// useSyncExternalStore, so a component re-renders only when what it reads
// changed, in this tab, another tab, or by a sync's pull. React is an optional
// peer dependency: only this entry imports it.

import { useMemo, useSyncExternalStore } from "react";
import type { Application } from "./application.js";
import { liveAggregate, liveSyncStatus, liveView, type Live, type LiveState } from "./live.js";
import type { Sync, SyncStatus } from "./sync.js";
import type { AggregateName, AggregateView, Json, State, Types } from "./types.js";
import type { RowQuery, View } from "./views.js";

export type { LiveState } from "./live.js";

/** A live query's state, kept in sync with the component (subscribed while mounted). */
export function useLive<T>(live: Live<T>): LiveState<T> {
  return useSyncExternalStore(live.subscribe, () => live.current, () => live.current);
}

/**
 * A view's row (`{ key }`) or rows (`{ query }`), re-rendering when they change.
 * @example
 * const { loading, value } = useView(tricks, { key: "sit" });
 */
export function useView<R = Json>(view: View<R>, options: { key: string }): LiveState<R | undefined>;
export function useView<R = Json>(view: View<R>, options: { query: RowQuery }): LiveState<{ key: string; value: R }[]>;
// `any`: the overloads above type it.
export function useView<R = Json>(view: View<R>, options: { key: string } | { query: RowQuery }): LiveState<any> {
  // The options by value: a literal made at each render is the same query.
  const asked = JSON.stringify(options);
  const live = useMemo(() => liveView(view, JSON.parse(asked) as { key: string }), [view, asked]);
  return useLive(live);
}

/**
 * An aggregate's state and version, re-rendering when it changes.
 * @example
 * const { value: dog, error } = useAggregate(app, "Dog", id);
 */
export function useAggregate<T extends Types, N extends AggregateName<T>>(app: Application<T>, aggregate: N, id: string): LiveState<AggregateView<State<T, N>>> {
  const live = useMemo(() => liveAggregate(app, aggregate, id), [app, aggregate, id]);
  return useLive(live);
}

/**
 * A sync's status (connected, offline, pending, position), re-rendering when it changes.
 * @example
 * const { value: status } = useSyncStatus(sync);
 */
export function useSyncStatus(sync: Sync): LiveState<SyncStatus> {
  const live = useMemo(() => liveSyncStatus(sync), [sync]);
  return useLive(live);
}
