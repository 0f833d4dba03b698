// Sync with a server: a thin wrapper over the core's sync client. The core pulls
// and pushes exactly once, keeps conflicts, and decides what live sync does next
// (a round, a wait for the server's news, a back-off, stop); this file performs
// it: a round at a time under a Web Lock (one tab syncs at a time), the timers.

import type { CoreSync } from "../wasm/tributary.js";
import { calling } from "./core.js";
import { typed, ValidationError, type TributaryError } from "./errors.js";
import { Turns } from "./runner.js";
import type { EventView } from "./types.js";

export interface SyncOptions {
  /** The base URL of one application on the server: `http://host:port/{tenant}/{app}`. */
  url: string;
  /** Sent as `Authorization: Bearer ...`. */
  token?: string;
  /** `false` follows the server: pull only (a Python server, say). Default true. */
  push?: boolean;
  /** Events per request: default 1,000, or 10 with `push: false` (a Python server serves at most its section size, 10 by default). */
  batch?: number;
  /** `"rebase"` resolves every conflict by rebasing it, as it happens. Default `"keep"`. */
  onConflict?: "keep" | "rebase";
}

export interface SyncStatus {
  state: "idle" | "syncing" | "offline" | "failed";
  /** Local events not yet on the server, as counted by the last round or `resolve` (not at each local record). */
  pending: number;
  /** The server position reached. */
  position: number;
  lastError?: TributaryError;
}

export interface SyncProgress {
  pushed: number;
  pulled: number;
  /** What this round had to move when it began (pending events, and the server's new ones). */
  total: number;
}

export type SyncChange = { type: "status"; status: SyncStatus } | ({ type: "progress" } & SyncProgress);

/** Local events that lost to the server's at the same aggregate versions. */
export interface SyncConflict {
  id: string;
  aggregateId: string;
  /** The first version both sides recorded. */
  version: number;
  /** This device's events that lost, oldest first. */
  local: EventView[];
  /** The server's events of the aggregate from that version on. */
  server: EventView[];
}

/** What live sync does next, as the core decides it. */
type LiveStep = { round: true } | { wait: number } | { sleep: number } | { stop: true };

/** This application syncing with one server. */
export class Sync {
  readonly url: string;
  readonly #core: CoreSync;
  readonly #turns: Turns;
  readonly #changed: (conflicts: boolean) => void;
  readonly #listeners = new Set<(change: SyncChange) => void>();
  #status: SyncStatus = { state: "idle", pending: 0, position: 0 };
  #live = false;
  /** Loops started: only the newest may go on (a stop and a start in one turn end the older). */
  #loops = 0;
  #wake: () => void = () => {};
  /** Rounds begun: the first status read is dropped once one has. */
  #rounds = 0;

  /** @internal made by `Application.sync`. */
  constructor(core: CoreSync, turns: Turns, changed: (conflicts: boolean) => void) {
    this.url = core.url;
    this.#core = core;
    this.#changed = changed;
    this.#turns = turns;
    // Where an earlier session left it (the position, what waits to be pushed), unless a round tells first.
    void Promise.all([calling(() => core.position()), calling(() => core.pending())]).then(([position, pending]) => {
      if (this.#rounds === 0) this.#set({ position, pending });
    }, () => {});
  }

  /** One round: pull every new server event, push every pending local event, then pull what came meanwhile. */
  now(): Promise<{ pushed: number; pulled: number }> {
    return this.#turns.run(() => this.#round());
  }

  /** Keeps syncing: after each round, waits for news from the server or this application; backs off while offline. */
  start(): void {
    if (this.#live) return;
    this.#live = true;
    void this.#loop(++this.#loops);
  }

  /** Stops keeping in sync (a round under way finishes; a wait for the server's news ends, request and all). */
  stop(): void {
    this.#live = false;
    this.#wake();
    try {
      this.#core.stopWaiting();
    } catch {
      // a core reset after an internal error: nothing of it is waiting any more
    }
  }

  status(): SyncStatus {
    return { ...this.#status };
  }

  /** Calls `listener` on each status change and step of progress. Returns an unsubscribe function. */
  subscribe(listener: (change: SyncChange) => void): () => void {
    if (typeof listener !== "function") throw new ValidationError("subscribe takes a listener function");
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The conflicts held for the application to resolve. */
  conflicts(): Promise<SyncConflict[]> {
    return calling(() => this.#core.conflicts());
  }

  /** `"rebase"`: the lost events again, after the server's newest version (if `apply` takes them); `"discard"`: drop them. */
  async resolve(conflictId: string, how: "rebase" | "discard"): Promise<void> {
    await this.#turns.run(async () => {
      await calling(() => this.#core.resolve(conflictId, how));
      // A rebase adds pending events. Counting them is not part of resolving: a failure leaves the old count.
      const pending = await calling(() => this.#core.pending()).catch(() => undefined);
      if (pending !== undefined) this.#set({ pending });
    });
    this.#changed(false);
    this.poke();
  }

  /** @internal this application recorded events: push them soon, if live. */
  poke(): void {
    this.#wake();
  }

  async #round(): Promise<{ pushed: number; pulled: number }> {
    this.#rounds++;
    this.#set({ state: "syncing" });
    let pulled = 0;
    let conflicts = 0;
    try {
      const [pending, head, position] = await Promise.all([
        calling(() => this.#core.pending()),
        // Only for the progress total: a server failing just this (a proxy cutting `/wait`) must not fail the round.
        calling(() => this.#core.waitForServer(0, 0)).catch(() => 0),
        calling(() => this.#core.position()),
      ]);
      // A server without `/wait` (Python's) says only its next id, not its newest: a lower bound then.
      let total = pending + Math.max(0, head - position);
      let pushed = 0;
      const round = await calling(() =>
        this.#core.round((step: { pushed: number; pulled: number; conflicts: number }) => {
          pushed += step.pushed;
          pulled += step.pulled;
          conflicts += step.conflicts;
          total = Math.max(total, pushed + pulled);
          this.#emit({ type: "progress", pushed, pulled, total });
        }),
      );
      if (round.pulled > 0 || round.conflicts > 0) this.#changed(round.conflicts > 0);
      this.#set({ state: "idle", pending: await calling(() => this.#core.pending()), position: round.position, lastError: undefined });
      return { pushed: round.pushed, pulled: round.pulled };
    } catch (error) {
      // What was pulled (and conflicts kept) before the failure is in the log: views and other tabs must hear of it.
      if (pulled > 0 || conflicts > 0) this.#changed(conflicts > 0);
      const failure = typed(error) as TributaryError;
      // The status says where the round got to (pages pulled before the failure moved it; a first
      // round may fail before the status ever read it), and what is still to push.
      const position = await calling(() => this.#core.position()).catch(() => this.#status.position);
      const pending = await calling(() => this.#core.pending()).catch(() => this.#status.pending);
      this.#set({ state: failure.name === "SyncError" ? "offline" : "failed", position, pending, lastError: failure });
      throw failure;
    }
  }

  /** Performs what the core decides live sync does next, until it says stop or `stop` is called. */
  async #loop(loop: number): Promise<void> {
    let next: LiveStep = { round: true };
    let woken = Promise.resolve("poked");
    while (this.#live && loop === this.#loops) {
      let happened: string;
      if ("round" in next) {
        // A poke from here on (a record made during the round) ends the wait or back-off after it.
        woken = new Promise((done) => (this.#wake = () => done("poked")));
        happened = await this.now().then(() => "synced", (error: Error) => (error.name === "SyncError" ? "offline" : "failed"));
      } else if ("wait" in next) {
        const after = next.wait;
        happened = await Promise.race([calling(() => this.#core.waitForServer(after, undefined)).then(() => "heard", () => "unheard"), woken]);
      } else if ("sleep" in next) {
        const ms = next.sleep;
        happened = await Promise.race([new Promise<string>((done) => setTimeout(done, ms, "slept")), woken]);
      } else {
        // Credentials or a bug: retrying will not help (unless this loop is an older one, which just ends).
        if (loop === this.#loops) this.#live = false;
        return;
      }
      next = this.#core.next(happened, this.#status.position) as LiveStep;
    }
  }

  #set(change: Partial<SyncStatus>): void {
    this.#status = { ...this.#status, ...change };
    if ("lastError" in change && change.lastError === undefined) delete this.#status.lastError;
    this.#emit({ type: "status", status: this.status() });
  }

  #emit(change: SyncChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        console.error(`tributary: a listener of ${this.url} threw`, error);
      }
    }
  }
}
