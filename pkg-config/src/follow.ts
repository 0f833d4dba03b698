// Process applications: one application follows another's log with a policy
// that records events of its own. The core saves each upstream event's new
// events with its tracking record in one transaction: processed exactly once.

import type { CoreFollower } from "../wasm/tributary.js";
import { callingSync } from "./core.js";
import type { TributaryError } from "./errors.js";
import { Runner, type RunnerStatus } from "./runner.js";
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

export type FollowerStatus = RunnerStatus;

/** Notifications a follower takes from its leader per step. */
const STEP = 100;

/** This application following a leader's log. */
export class Follower {
  readonly leader: string;
  readonly #core: CoreFollower;
  readonly #runner: Runner;

  /** @internal made by `Application.follow`. */
  constructor(core: CoreFollower, lock: string | null) {
    this.leader = core.leader;
    this.#core = core;
    this.#runner = new Runner(`following ${this.leader}`, lock, () => core.step(STEP), () => {}, () => {});
  }

  /** Resolves once the leader's notification `notificationId` has been processed here. */
  wait(notificationId: number, options?: { timeoutMs?: number }): Promise<void> {
    return this.#runner.wait(notificationId, (wanted) => this.#core.wait(notificationId, options, wanted));
  }

  /** Where it is, and whether (and at which of the leader's notifications) it failed. */
  status(): FollowerStatus {
    return this.#runner.status();
  }

  /** Tries again after a failure (once the policy is fixed); a StorageError once its application closed. */
  start(): void {
    this.#runner.start();
  }

  /** @internal replaces the policy (after a fix) and resumes. */
  redefine(definition: FollowDefinition<any>): void {
    callingSync(() => this.#core.redefine(definition));
    this.start();
  }

  /** @internal its application closed, or it follows the leader opened again: no more steps. */
  stop(why: TributaryError): void {
    this.#runner.stop(why);
  }

  /** @internal the leader may have new events. */
  poke(): void {
    this.#runner.poke();
  }
}
