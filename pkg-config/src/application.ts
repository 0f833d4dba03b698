// The Application: a thin, typed layer over the WebAssembly core. It checks
// calls before they reach the core, sends each operation across in one call,
// and turns what the core throws into typed errors.

import init, { Core, nameId } from "../wasm/tributary.js";
import { calling, callingSync, UnknownTopicError, ValidationError } from "./errors.js";
import { checkId, checkPayload, checkVersion, type Json } from "./json.js";
import { View, type Message, type ViewDefinition, type ViewEvent } from "./views.js";
import { Follower, type FollowDefinition } from "./follow.js";
import type { TaskStatistics, WorkflowTypes } from "./workflow.js";
import type {
  AggregateDefinition, AggregateName, AggregateView, EventData, EventMap, EventMeta, EventName, EventView, Notification,
  OpenOptions, RecordRequest, Recorded, Section, State, Types,
} from "./types.js";

let loading: Promise<unknown> | undefined;

/**
 * Opens (creating if needed) an application's event log.
 * @example
 * const app = (await openApplication("dogschool")).defineAggregate("Dog", { initial, apply });
 */
export async function openApplication(name: string, options: OpenOptions = {}): Promise<Application> {
  if (typeof name !== "string" || name === "") throw new ValidationError("an application needs a non-empty name");
  const { storage = "indexeddb", ...settings } = options;
  loading ??= init();
  await loading;
  const core = await calling(() => Core.open(name, storage, JSON.stringify(settings)));
  return new Application(name, core, storage === "indexeddb");
}

const parse = <T>(json: string): T => JSON.parse(json);

/** A record request before its checks. */
type Loose = { aggregate: string; id?: string; event: string; data: unknown; expectedVersion?: number };

/** An event from the core, with its timestamp as a Date. */
function meta<E extends EventView>(e: E): E {
  return { ...e, timestamp: new Date(e.timestamp) };
}

export class Application<T extends Types = {}> {
  readonly name: string;
  readonly #core: Core;
  readonly #defined = new Map<string, Set<string>>();
  readonly #views = new Map<string, View<any>>();
  /** Applications following this one (in this tab). */
  readonly #followers = new Set<Follower>();
  /** Leader name -> how this application follows it. */
  readonly #following = new Map<string, Follower>();
  /** Shared with the origin's other tabs (IndexedDB storage only). */
  readonly #shared: boolean;
  readonly #channel: BroadcastChannel | null;

  /** @internal use `openApplication`. */
  constructor(name: string, core: Core, shared: boolean) {
    this.name = name;
    this.#core = core;
    this.#shared = shared;
    this.#channel = shared && typeof BroadcastChannel === "function" ? new BroadcastChannel(`tributary:${name}`) : null;
    if (this.#channel) this.#channel.onmessage = ({ data }: MessageEvent<Message>) => this.#heard(data);
  }

  /**
   * Defines a view: a projection of the log into rows, kept up to date exactly once
   * (in this tab, or in another tab of the origin, whichever holds its lock). Defining
   * it again replaces its handler (after a fix) and resumes from its last good position.
   */
  defineView<R = Json>(name: string, definition: ViewDefinition<R>): View<R> {
    if (typeof name !== "string" || name === "") throw new ValidationError("a view needs a non-empty name");
    const existing = this.#views.get(name);
    if (existing) {
      existing.redefine(definition);
      return existing;
    }
    const lock = this.#shared ? `tributary:${this.name}:view:${name}` : null;
    const view = new View<R>(this.#core, name, lock, (message) => this.#channel?.postMessage(message), definition);
    this.#views.set(name, view);
    view.start();
    return view;
  }

  /**
   * Adds the workflow domain: the `WorkflowRun` and `Task` aggregates, and the views
   * `jobAccounting`, `jobProgress`, `workflowProgress` and `taskAnalytics`.
   * Returns this application, typed with the workflow aggregates.
   */
  defineWorkflows(): Application<T & WorkflowTypes> {
    callingSync(() => this.#core.defineWorkflows());
    this.#defined.set("WorkflowRun", new Set(["Created", "Started", "Completed", "Failed"]));
    this.#defined.set("Task", new Set(["Created", "Started", "JobAdded", "StatusUpdated", "Completed", "Failed"]));
    for (const name of ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"]) {
      const lock = this.#shared ? `tributary:${this.name}:view:${name}` : null;
      const view = new View(this.#core, name, lock, (message) => this.#channel?.postMessage(message));
      this.#views.set(name, view);
      view.start();
    }
    return this as unknown as Application<T & WorkflowTypes>;
  }

  /** Failure rate and mean duration (ms) per task name, from the taskAnalytics view. */
  async taskStatistics(): Promise<TaskStatistics[]> {
    return parse(await calling(() => this.#core.taskStatistics()));
  }

  /**
   * Follows another application's log (a process application): for each of the leader's
   * events, `policy` returns record requests for this application's own aggregates, and
   * they are saved with the leader's notification as tracking record, exactly once.
   * Following the same leader again replaces the policy (after a fix) and resumes.
   */
  follow(leader: Application<any>, { topics = [], policy }: FollowDefinition<this>): Follower {
    if (!(leader instanceof Application)) throw new ValidationError("follow takes the leader Application");
    if (typeof policy !== "function") throw new ValidationError("follow needs a policy(event, app) function");
    const run = async (json: string): Promise<string> => {
      const event = JSON.parse(json) as ViewEvent;
      const requests = await policy({ ...event, timestamp: new Date(event.timestamp) }, this);
      if (!Array.isArray(requests)) throw new TypeError("a policy returns an array of record requests");
      return JSON.stringify(requests.map((request, i) => this.#request(request as Loose, `request ${i}`)));
    };
    callingSync(() => this.#core.follow(leader.name, JSON.stringify(topics), run));
    const existing = this.#following.get(leader.name);
    if (existing) {
      existing.start();
      return existing;
    }
    const lock = this.#shared ? `tributary:${this.name}:follows:${leader.name}` : null;
    const follower = new Follower(this.#core, leader.#core, leader.name, lock);
    leader.#followers.add(follower);
    this.#following.set(leader.name, follower);
    follower.poke();
    return follower;
  }

  /** The id derived from a name (uuid v5, as Python's `create_id`): the same name, the same aggregate. */
  idFor(aggregate: AggregateName<T>, name: string): string {
    if (typeof name !== "string") throw new ValidationError("idFor takes a name string");
    return nameId(aggregate, name);
  }

  /** A view defined with `defineView`. */
  view<R = Json>(name: string): View<R> {
    const view = this.#views.get(name);
    if (!view) throw new ValidationError(`no view ${JSON.stringify(name)}: define it with defineView first`);
    return view as View<R>;
  }

  /** The id of the newest notification (0 while the log is empty). */
  async maxNotificationId(): Promise<number> {
    return Number(await calling(() => this.#core.maxNotificationId()));
  }

  #heard(message: Message): void {
    if (message?.type === "recorded") {
      for (const view of this.#views.values()) view.poke();
      for (const follower of this.#followers) follower.poke();
    }
    if (message?.type === "view") this.#views.get(message.view)?.heard(message);
  }

  /**
   * Defines an aggregate type. Returns this application, typed with it: keep the
   * result (`app = app.defineAggregate(...)`) for completion of names and data.
   */
  defineAggregate<N extends string, S, E extends EventMap>(name: N, definition: AggregateDefinition<S, E>): Application<T & { [K in N]: { state: S; events: E } }> {
    if (typeof name !== "string" || !name || name.includes(".")) throw new ValidationError(`aggregate name ${JSON.stringify(name)} must be non-empty, without dots`);
    if (typeof definition?.initial !== "function" || typeof definition.apply !== "object") {
      throw new ValidationError(`${name} needs an initial() function and an apply object of functions`);
    }
    const events = Object.keys(definition.apply);
    for (const event of events) {
      if (typeof (definition.apply as Record<string, unknown>)[event] !== "function") throw new ValidationError(`${name}.apply.${event} must be a function`);
    }
    const versions = Object.fromEntries(events.map((e) => [e, (definition.eventVersions as Record<string, number> | undefined)?.[e] ?? 1]));
    const apply = definition.apply as Record<string, (state: unknown, data: unknown, meta: EventMeta) => unknown>;
    const fold = (stateJson: string, eventsJson: string): string => {
      let state = JSON.parse(stateJson);
      for (const { data, ...event } of JSON.parse(eventsJson) as EventView[]) {
        const step = apply[event.type];
        if (!step) throw new Error(`no apply function for ${event.type}`);
        state = step(state, data, { ...event, timestamp: new Date(event.timestamp) });
      }
      return JSON.stringify(state);
    };
    const initial = () => JSON.stringify(definition.initial());
    callingSync(() => this.#core.defineAggregate(name, JSON.stringify({ events: versions, schemaVersion: definition.schemaVersion ?? 1 }), initial, fold));
    for (const [event, byVersion] of Object.entries(definition.upcasters ?? {})) {
      const key = event === "snapshot" ? name : `${name}.${event}`;
      for (const [from, upcast] of Object.entries(byVersion as Record<string, (data: unknown) => unknown>)) {
        callingSync(() => this.#core.defineUpcaster(key, Number(from), (json: string) => JSON.stringify(upcast(JSON.parse(json)))));
      }
    }
    this.#defined.set(name, new Set(events));
    return this as unknown as Application<T & { [K in N]: { state: S; events: E } }>;
  }

  /** Creates an aggregate with its first event. Pass `id` for a name-derived id. */
  async create<N extends AggregateName<T>, K extends EventName<T, N>>(aggregate: N, event: K, data: EventData<T, N, K>, options: { id?: string } = {}): Promise<Recorded> {
    const [recorded] = await this.#save([{ aggregate, event, data, id: options.id, expectedVersion: 0 }]);
    return recorded!;
  }

  /** Records an event of an aggregate, after `expectedVersion` if given (else after its newest). */
  async record<N extends AggregateName<T>, K extends EventName<T, N>>(aggregate: N, id: string, event: K, data: EventData<T, N, K>, options: { expectedVersion?: number } = {}): Promise<{ version: number; notificationId: number }> {
    checkId(id);
    const [recorded] = await this.#save([{ aggregate, id, event, data, expectedVersion: options.expectedVersion }]);
    return { version: recorded!.version, notificationId: recorded!.notificationId };
  }

  /** Records events of several aggregates in one atomic save: all or none. */
  async recordMany(events: RecordRequest<T>[]): Promise<Recorded[]> {
    if (!Array.isArray(events)) throw new ValidationError("recordMany takes an array of events");
    return this.#save(events as Loose[]);
  }

  /** An aggregate: latest, or as it was at `{ version }` or `{ at: Date }`. */
  async get<N extends AggregateName<T>>(aggregate: N, id: string, options: { version?: number; at?: Date } = {}): Promise<AggregateView<State<T, N>>> {
    this.#checkAggregate(aggregate);
    checkId(id);
    const at: { version?: number; at?: string } = {};
    if (options.version !== undefined) {
      checkVersion(options.version, "version", 1);
      at.version = options.version;
    }
    if (options.at !== undefined) {
      if (!(options.at instanceof Date) || Number.isNaN(options.at.getTime())) throw new ValidationError("at must be a valid Date");
      at.at = options.at.toISOString();
    }
    const view = parse<AggregateView<State<T, N>>>(await calling(() => this.#core.get(aggregate, id, JSON.stringify(at))));
    return { ...view, createdOn: new Date(view.createdOn), modifiedOn: new Date(view.modifiedOn) };
  }

  /** Every event of an aggregate, oldest first. */
  async history(id: string): Promise<EventView[]> {
    checkId(id);
    return parse<EventView[]>(await calling(() => this.#core.history(id))).map(meta);
  }

  /** Notifications after a position (default 0), at most `limit` (default 100), of some topics ("Dog.TrickAdded"). */
  async notifications(options: { after?: number; limit?: number; topics?: string[]; upTo?: number } = {}): Promise<Notification[]> {
    if (options.after !== undefined) checkVersion(options.after, "after", 0);
    if (options.limit !== undefined) checkVersion(options.limit, "limit", 0);
    if (options.upTo !== undefined) checkVersion(options.upTo, "upTo", 0);
    if (options.topics !== undefined && (!Array.isArray(options.topics) || options.topics.some((t) => typeof t !== "string"))) {
      throw new ValidationError("topics must be an array of strings like \"Dog.TrickAdded\"");
    }
    return parse<Notification[]>(await calling(() => this.#core.notifications(JSON.stringify(options)))).map(meta);
  }

  /** The notification log in sections, in the Python library's format. */
  readonly notificationLog = {
    /** A section ("1,10"), parsed. */
    section: async (id: string): Promise<Section> => JSON.parse(await this.notificationLog.sectionJson(id)),
    /** A section ("1,10") as the exact JSON text a Python server sends. */
    sectionJson: (id: string): Promise<string> => calling(() => this.#core.section(String(id))),
  };

  /** Snapshots an aggregate at its latest version. */
  async takeSnapshot<N extends AggregateName<T>>(aggregate: N, id: string): Promise<{ version: number }> {
    this.#checkAggregate(aggregate);
    checkId(id);
    return parse(await calling(() => this.#core.takeSnapshot(aggregate, id)));
  }

  /** Closes the application; later calls throw a StorageError. */
  close(): void {
    this.#channel?.close();
    this.#core.close();
  }

  async #save(events: Loose[]): Promise<Recorded[]> {
    const requests = events.map((request, i) => this.#request(request, events.length > 1 ? `event ${i}` : "event"));
    const recorded = parse<Recorded[]>(await calling(() => this.#core.record(JSON.stringify(requests))));
    for (const view of this.#views.values()) view.poke();
    for (const follower of this.#followers) follower.poke();
    this.#channel?.postMessage({ type: "recorded" } satisfies Message);
    return recorded;
  }

  #request(request: Loose, what: string): object {
    if (typeof request !== "object" || request === null) throw new ValidationError(`${what} must be an object`);
    const { aggregate, id, event, data, expectedVersion } = request;
    const events = this.#checkAggregate(aggregate);
    if (!events.has(event)) throw new UnknownTopicError(`${aggregate} has no event ${JSON.stringify(event)}; it has ${[...events].join(", ")}`);
    if (id !== undefined) checkId(id, `${what}: id`);
    if (expectedVersion !== undefined) checkVersion(expectedVersion, `${what}: expectedVersion`, 0);
    checkPayload(data, `${what}: ${aggregate}.${event} data`);
    return { aggregate, id, event, data: data as Json, expectedVersion };
  }

  #checkAggregate(aggregate: string): Set<string> {
    const events = this.#defined.get(aggregate);
    if (!events) throw new UnknownTopicError(`no aggregate type ${JSON.stringify(aggregate)}: define it with defineAggregate first`);
    return events;
  }

}
