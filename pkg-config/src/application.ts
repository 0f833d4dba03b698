// The Application: a thin, typed layer over the WebAssembly core. The core
// checks every call, owns the types, records, replays and projects; this file
// adds the TypeScript types, and tells views, followers and other tabs when the
// log has grown.

import { CoreApplication, type CoreView } from "../wasm/tributary.js";
import { alive, calling, callingSync, guarded, loadCore } from "./core.js";
import { StorageError, ValidationError } from "./errors.js";
import { View, type Message, type ViewDefinition } from "./views.js";
import { Follower, type FollowDefinition } from "./follow.js";
import { Sync, type SyncOptions } from "./sync.js";
import { Turns } from "./runner.js";
import type { TaskStatistics, WorkflowTypes } from "./workflow.js";
import type {
  AggregateDefinition, AggregateName, AggregateView, EventData, EventMap, EventName, EventView, Json, Notification,
  OpenOptions, RecordRequest, Recorded, Section, State, Types,
} from "./types.js";

/**
 * Opens (creating if needed) an application's event log.
 * @example
 * const app = (await openApplication("dogschool")).defineAggregate("Dog", { initial, apply });
 */
export async function openApplication(name: string, options?: OpenOptions): Promise<Application> {
  const instance = await loadCore();
  const core = await calling(() => CoreApplication.open(name, options));
  return new Application(core, instance);
}

/** Events read from the core per crossing, for histories. */
const PAGE = 1000;
/** At most one "recorded" message to other tabs per this many ms. */
const TELL_EVERY_MS = 8;

export class Application<T extends Types = {}> {
  readonly name: string;
  readonly #core: CoreApplication;
  readonly #instance: number;
  readonly #views = new Map<string, View<any>>();
  /** Applications following this one (in this tab). */
  readonly #followers = new Set<Follower>();
  /** Leader name -> how this application follows it (and the leader it was made for). */
  readonly #following = new Map<string, { leader: Application<any>; follower: Follower }>();
  readonly #syncs = new Set<Sync>();
  /** Turns per server URL: syncs of one server take turns here (and, with IndexedDB, across tabs). */
  readonly #syncTurns = new Map<string, Turns>();
  readonly #channel: BroadcastChannel | null;
  /** A "recorded" message to other tabs is due. */
  #telling = false;
  /** When the last "recorded" message went (performance.now()). */
  #told = -Infinity;
  /** Closed: nothing more goes to other tabs (the channel is closed). */
  #closed = false;
  /** Listeners to the log's growth (`subscribe`). */
  readonly #listeners = new Set<() => void>();

  /** @internal use `openApplication`. */
  constructor(core: CoreApplication, instance: number) {
    this.name = core.name;
    this.#core = core;
    this.#instance = instance;
    this.#channel = core.shared && typeof BroadcastChannel === "function" ? new BroadcastChannel(`tributary:${this.name}`) : null;
    if (this.#channel) this.#channel.onmessage = ({ data }: MessageEvent<Message>) => this.#heard(data);
  }

  /**
   * Defines an aggregate type. Returns this application, typed with it: keep the
   * result (`app = app.defineAggregate(...)`) for completion of names and data.
   */
  defineAggregate<N extends string, S, E extends EventMap>(name: N, definition: AggregateDefinition<S, E>): Application<T & { [K in N]: { state: S; events: E } }> {
    this.#call(() => this.#core.defineAggregate(name, definition));
    return this as unknown as Application<T & { [K in N]: { state: S; events: E } }>;
  }

  /** The aggregate types this application knows, each with its event names. */
  aggregates(): Record<string, string[]> {
    return this.#call(() => this.#core.aggregates());
  }

  /** Creates an aggregate with its first event. Pass `id` for a name-derived id. */
  async create<N extends AggregateName<T>, K extends EventName<T, N>>(aggregate: N, event: K, data: EventData<T, N, K>, options?: { id?: string }): Promise<Recorded> {
    return this.#recorded(await this.#callAsync(() => this.#core.create(aggregate, event, data, options)));
  }

  /** Records an event of an aggregate, after `expectedVersion` if given (else after its newest). */
  async record<N extends AggregateName<T>, K extends EventName<T, N>>(aggregate: N, id: string, event: K, data: EventData<T, N, K>, options?: { expectedVersion?: number }): Promise<{ version: number; notificationId: number }> {
    return this.#recorded(await this.#callAsync(() => this.#core.append(aggregate, id, event, data, options)));
  }

  /** Records events of several aggregates in one atomic save: all or none. */
  async recordMany(events: RecordRequest<T>[]): Promise<Recorded[]> {
    return this.#recorded(await this.#callAsync(() => this.#core.record(events)));
  }

  /** An aggregate: latest, or as it was at `{ version }` or `{ at: Date }` (with every event of that millisecond: events are stamped to the microsecond). */
  get<N extends AggregateName<T>>(aggregate: N, id: string, options?: { version?: number; at?: Date }): Promise<AggregateView<State<T, N>>> {
    return this.#callAsync(() => this.#core.get(aggregate, id, options));
  }

  /** Every event of an aggregate, oldest first (read a bounded page at a time). */
  async history(id: string): Promise<EventView[]> {
    const events: EventView[] = [];
    for (;;) {
      const page: EventView[] = await this.#callAsync(() => this.#core.history(id, { after: events.at(-1)?.originatorVersion, limit: PAGE }));
      if (page.length === 0) return events;
      for (const event of page) events.push(event);
    }
  }

  /** Notifications after a position (default 0), at most `limit` (default 100), of some topics ("Dog.TrickAdded"). */
  notifications(options?: { after?: number; limit?: number; topics?: string[]; upTo?: number }): Promise<Notification[]> {
    return this.#callAsync(() => this.#core.notifications(options));
  }

  /** The notification log in sections, in the Python library's format. */
  readonly notificationLog = {
    /** A section ("1,10"), parsed. */
    section: async (id: string): Promise<Section> => JSON.parse(await this.notificationLog.sectionJson(id)),
    /** A section ("1,10") as the exact JSON text a Python server sends. */
    sectionJson: (id: string): Promise<string> => this.#callAsync(() => this.#core.section(id)),
  };

  /** Snapshots an aggregate at its latest version. */
  async takeSnapshot<N extends AggregateName<T>>(aggregate: N, id: string): Promise<{ version: number }> {
    return { version: await this.#callAsync(() => this.#core.takeSnapshot(aggregate, id)) };
  }

  /** The id of the newest notification (0 while the log is empty). */
  maxNotificationId(): Promise<number> {
    return this.#callAsync(() => this.#core.maxNotificationId());
  }

  /**
   * Calls `listener` when the log may have grown: a save in this tab or another,
   * or a sync's pull. Returns an unsubscribe function. (For live reads: see `liveAggregate`.)
   */
  subscribe(listener: () => void): () => void {
    if (typeof listener !== "function") throw new ValidationError("subscribe takes a listener function");
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The id derived from a name (uuid v5, as Python's `create_id`): the same name, the same aggregate. */
  idFor(aggregate: AggregateName<T>, name: string): string {
    return this.#call(() => this.#core.idFor(aggregate, name));
  }

  /**
   * Defines a view: a projection of the log into rows, kept up to date exactly once
   * (in this tab, or in another tab of the origin, whichever holds its lock). Defining
   * it again replaces its handler (after a fix) and resumes from its last good position.
   */
  defineView<R = Json>(name: string, definition: ViewDefinition<R>): View<R> {
    const existing = typeof name === "string" ? this.#views.get(name) : undefined;
    if (existing) {
      this.#call(() => existing.redefine(definition));
      return existing;
    }
    return this.#view(this.#call(() => this.#core.defineView(name, definition)));
  }

  /** A view defined earlier. */
  view<R = Json>(name: string): View<R> {
    const view = this.#views.get(name);
    if (typeof name !== "string") throw new ValidationError("a view name must be a string");
    if (!view) throw new ValidationError(`no view ${JSON.stringify(name)}: define it with defineView first`);
    return view as View<R>;
  }

  /**
   * Adds BIOMERO's workflow domain: the `WorkflowRun` and `Task` aggregates
   * (BIOMERO's events and fields, stored under its topics, versions from 0) and
   * its four views `jobAccounting`, `jobProgress`, `workflowProgress`,
   * `taskAnalytics`. Returns this application, typed with the workflow aggregates.
   */
  defineWorkflows(): Application<T & WorkflowTypes> {
    for (const view of this.#call(() => this.#core.defineWorkflows()) as CoreView[]) this.#view(view);
    return this as unknown as Application<T & WorkflowTypes>;
  }

  /** Count, failure rate and mean duration (ms) per task name, from the taskAnalytics view. */
  taskStatistics(): Promise<TaskStatistics[]> {
    return this.#callAsync(() => this.#core.taskStatistics());
  }

  /**
   * Follows another application's log (a process application): for each of the leader's
   * events, `policy` returns record requests for this application's own aggregates, and
   * they are saved with the leader's notification as tracking record, exactly once.
   * Following the same leader again replaces the policy (after a fix) and resumes.
   */
  follow(leader: Application<any>, definition: FollowDefinition<this>): Follower {
    // The brand, not `instanceof`: a proxy of an application or an object inheriting from one has no core.
    if (typeof leader !== "object" || leader === null || !(#core in leader)) throw new ValidationError("follow takes the leader Application");
    leader.#call(() => undefined);
    // Closed, it is refused here too when followed before (the core refuses it when not).
    if (leader.#closed) throw leader.#closedError();
    const existing = this.#following.get(leader.name);
    if (existing?.leader === leader) {
      this.#call(() => existing.follower.redefine(definition));
      return existing.follower;
    }
    const core = this.#call(() => this.#core.follow(leader.#core, definition, this));
    const follower = new Follower(guarded(core, `following ${leader.name}`), this.#core.shared ? `tributary:${this.name}:follows:${leader.name}` : null);
    if (existing) {
      // The leader was opened again (its earlier instance closed): follow the one given, from the same position.
      existing.follower.stop(new StorageError(`${leader.name} was opened again: follow it again`));
      existing.leader.#followers.delete(existing.follower);
    }
    leader.#followers.add(follower);
    this.#following.set(leader.name, { leader, follower });
    follower.poke();
    return follower;
  }

  /**
   * Syncs this application's log with a server: `await sync.now()` for one round,
   * `sync.start()` to keep in sync. One tab at a time syncs (a Web Lock).
   */
  sync(options: SyncOptions): Sync {
    const core = this.#call(() => this.#core.sync(options));
    let turns = this.#syncTurns.get(core.url);
    if (!turns) this.#syncTurns.set(core.url, (turns = new Turns(this.#core.shared ? `tributary:${this.name}:sync:${core.url}` : null)));
    const sync = new Sync(guarded(core, `sync ${core.url}`), turns, (conflicts) => this.#pulled(conflicts, sync));
    this.#syncs.add(sync);
    return sync;
  }

  /**
   * Closes the application: its syncs, views and followers stop (their pending waits
   * end with a StorageError), other tabs still hear of its last saves, and later calls
   * throw a StorageError.
   */
  close(): void {
    for (const sync of this.#syncs) sync.stop();
    // Views and followers stop: a step after the close would only fail (and log that it stopped).
    const closed = this.#closedError();
    for (const view of this.#views.values()) view.stop(closed);
    for (const { leader, follower } of this.#following.values()) {
      follower.stop(closed);
      leader.#followers.delete(follower);
    }
    // Saves of the last few milliseconds not yet told: told now, or other tabs' views would miss them.
    if (this.#telling) this.#tell({ type: "recorded" });
    this.#closed = true;
    this.#channel?.close();
    if (this.#alive()) this.#core.close();
  }

  #view(core: CoreView): View<any> {
    const view = new View(guarded(core, `view ${core.name}`), this.#core.shared ? `tributary:${this.name}:view:${core.name}` : null, (message) => this.#tell(message));
    this.#views.set(view.name, view);
    view.start();
    return view;
  }

  /**
   * After a save: views and followers here step, and other tabs hear of it, once
   * for all the saves of this turn of the event loop, and after the caller has
   * its answer. Telling other tabs costs about a tenth of a millisecond
   * (`BroadcastChannel.postMessage`), so saves in quick succession are told at
   * most once per {@link TELL_EVERY_MS}: a save after a quiet spell is told at once.
   */
  #recorded<R>(recorded: R, pulledBy?: Sync): R {
    if (this.#closed) {
      // A save under way when the application closed: other tabs still hear of it;
      // nothing here reads this application now.
      this.#tell({ type: "recorded" });
      return recorded;
    }
    for (const view of this.#views.values()) view.poke();
    for (const follower of this.#followers) follower.poke();
    for (const sync of this.#syncs) if (sync !== pulledBy) sync.poke();
    this.#grew();
    if (this.#channel && !this.#telling) {
      this.#telling = true;
      const wait = Math.max(0, this.#told + TELL_EVERY_MS - performance.now());
      setTimeout(() => {
        if (this.#telling) this.#tell({ type: "recorded" });
      }, wait);
    }
    return recorded;
  }

  /**
   * Posts to other tabs (a "recorded" message: the one due). Once closed, what a save
   * or a view's commit under way at the close has to say goes on a channel of its own.
   */
  #tell(message: Message): void {
    if (message.type === "recorded") {
      this.#telling = false;
      this.#told = performance.now();
    }
    if (!this.#channel) return;
    if (!this.#closed) return this.#channel.postMessage(message);
    const channel = new BroadcastChannel(this.#channel.name);
    channel.postMessage(message);
    channel.close();
  }

  /**
   * `sync` brought events (and, after a conflict, removed some: views start again). It
   * has nothing new to push then, unless a conflict was rebased: only then is it poked.
   */
  #pulled(conflicts: boolean, sync: Sync): void {
    if (conflicts && !this.#closed) for (const view of this.#views.values()) view.restart();
    this.#recorded(undefined, conflicts ? undefined : sync);
  }

  #heard(message: Message): void {
    if (message?.type === "recorded") {
      for (const view of this.#views.values()) view.poke();
      for (const follower of this.#followers) follower.poke();
      for (const sync of this.#syncs) sync.poke();
      this.#grew();
    }
    if (message?.type === "view") this.#views.get(message.view)?.heard(message);
  }

  #grew(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        console.error(`tributary: a subscriber of ${this.name} threw`, error);
      }
    }
  }

  #closedError(): StorageError {
    return new StorageError(`application ${JSON.stringify(this.name)} is closed; open it again`);
  }

  #alive(): boolean {
    try {
      alive(this.#instance, `application ${this.name}`);
      return true;
    } catch {
      return false;
    }
  }

  #call<R>(call: () => R): R {
    alive(this.#instance, `application ${this.name}`);
    return callingSync(call);
  }

  async #callAsync<R>(call: () => Promise<R>): Promise<R> {
    alive(this.#instance, `application ${this.name}`);
    return calling(call);
  }
}
