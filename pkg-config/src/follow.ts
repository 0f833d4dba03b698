// Process applications: one application follows another's log with a policy
// that records events of its own. The core saves each upstream event's new
// events with its tracking record in one transaction: processed exactly once.

import type { Core } from "../wasm/tributary.js";
import { calling, HandlerError, typed } from "./errors.js";
import { checkVersion } from "./json.js";
import type { ViewEvent } from "./views.js";

/** A record request a policy returns (as for `recordMany`). */
export interface PolicyRequest {
  aggregate: string;
  id?: string;
  event: string;
  data: object;
  expectedVersion?: number;
}

export interface FollowDefinition<A> {
  /** The leader's "Aggregate.Event" topics to process (all when omitted). */
  topics?: string[];
  /** What to record for one of the leader's events; `app` is the follower, to read its aggregates. */
  policy: (event: ViewEvent<any>, app: A) => PolicyRequest[] | Promise<PolicyRequest[]>;
}

export interface FollowerStatus {
  position: number;
  state: "idle" | "running" | "failed";
  error?: HandlerError;
}

/** This application following a leader's log. */
export class Follower {
  readonly leader: string;
  readonly #core: Core;
  readonly #leaderCore: Core;
  readonly #lock: string | null;
  #position = 0;
  #state: FollowerStatus["state"] = "idle";
  #error?: HandlerError;
  #wanted = false;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #waiters = new Set<(error: HandlerError) => void>();
  /** Bumped by `start()`: a failure of a run begun before does not count. */
  #generation = 0;

  /** @internal made by `Application.follow`. */
  constructor(core: Core, leaderCore: Core, leader: string, lock: string | null) {
    this.#core = core;
    this.#leaderCore = leaderCore;
    this.leader = leader;
    this.#lock = lock;
  }

  /** Resolves once the leader's notification `notificationId` has been processed here. */
  async wait(notificationId: number, { timeoutMs = 5000 }: { timeoutMs?: number } = {}): Promise<void> {
    checkVersion(notificationId, "notificationId", 0);
    checkVersion(timeoutMs, "timeoutMs", 0);
    if (this.#error) throw this.#error;
    let waiter!: (error: HandlerError) => void;
    const failed = new Promise<never>((_, reject) => (waiter = reject));
    this.#waiters.add(waiter);
    try {
      this.poke();
      await Promise.race([calling(() => this.#core.followWait(this.leader, notificationId, timeoutMs)), failed]);
      this.#position = Math.max(this.#position, notificationId);
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  status(): FollowerStatus {
    return { position: this.#position, state: this.#error ? "failed" : this.#state, ...(this.#error ? { error: this.#error } : {}) };
  }

  /** Tries again after a policy failure (once the policy is fixed). */
  start(): void {
    this.#generation++;
    this.#error = undefined;
    this.poke();
  }

  /** @internal the leader may have new events. */
  poke(): void {
    if (this.#wanted || this.#error) return;
    this.#wanted = true;
    const task = async () => {
      this.#wanted = false;
      if (this.#error) return;
      const generation = this.#generation;
      this.#state = "running";
      try {
        while ((await calling(() => this.#core.pull(this.#leaderCore, 100))) !== "0") {
          this.#position = Number(await this.#core.followPosition(this.leader));
        }
      } catch (error) {
        const failure = error instanceof HandlerError ? error : new HandlerError(String((typed(error) as Error).message ?? error));
        // Where it stopped, before anyone waiting hears of it.
        this.#position = Number(await this.#core.followPosition(this.leader).catch(() => this.#position));
        if (generation !== this.#generation) {
          this.poke(); // that run began before a restart: try again
          return;
        }
        this.#error = failure;
        for (const waiter of this.#waiters) waiter(failure);
        console.error(`tributary: following ${this.leader} stopped:`, failure.message);
      } finally {
        this.#state = "idle";
        this.#position = Number(await this.#core.followPosition(this.leader).catch(() => this.#position));
      }
    };
    const lock = this.#lock;
    const locked = (): Promise<void> => (lock && globalThis.navigator?.locks ? navigator.locks.request(lock, task).then(() => {}) : task());
    this.#queue = this.#queue.then(locked, locked).catch(() => {});
  }
}
