// The one runner of the facade: it decides when a view, a follower or a sync
// steps in the core. It coalesces pokes into at most one queued run, holds a Web
// Lock per runner so that one tab at a time runs it, stops at a failure until
// `start()`, and settles waiters. What a step does is the core's business.

import { calling, callingSync } from "./core.js";
import { typed, type TributaryError } from "./errors.js";

/** What the core says of one step. */
export interface Step {
  position: number;
  head: number;
  applied: number;
  changed: string[];
  failed: { notificationId: number; error: Error } | null;
}

export interface RunnerStatus {
  position: number;
  state: "idle" | "running" | "failed";
  error?: TributaryError;
  failedAt?: number;
}

interface Failure {
  error: TributaryError;
  at: number;
}

/**
 * Tasks that take turns: in this tab one after another, across the origin's tabs
 * under a Web Lock of one name (when there are locks: IndexedDB storage).
 */
export class Turns {
  readonly #lock: string | null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(lock: string | null) {
    this.#lock = lock;
  }

  /** Runs `task` after this tab's earlier tasks, holding the lock. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const lock = this.#lock;
    const locked = (): Promise<T> => (lock && globalThis.navigator?.locks ? (navigator.locks.request(lock, task) as Promise<T>) : task());
    const run = this.#queue.then(locked, locked);
    this.#queue = run.catch(() => {});
    return run;
  }
}

export class Runner {
  readonly #label: string;
  readonly #turns: Turns;
  readonly #step: () => Promise<Step>;
  /** Called at the start of each locked session (another tab may have run it since). */
  readonly #session: () => void;
  readonly #onStep: (step: Step) => void;
  #position = 0;
  #state: "idle" | "running" = "idle";
  #failure?: Failure;
  #wanted = false;
  /** Why it stopped for good (its application closed, or its leader was opened again). */
  #stopped?: TributaryError;
  /** Bumped by `start()`: a failure of a run begun before does not count. */
  #generation = 0;
  readonly #waiters = new Set<{ at: number; settle: (failure?: Failure) => void }>();

  constructor(label: string, lock: string | null, step: () => Promise<Step>, session: () => void, onStep: (step: Step) => void) {
    this.#label = label;
    this.#turns = new Turns(lock);
    this.#step = step;
    this.#session = session;
    this.#onStep = onStep;
  }

  status(): RunnerStatus {
    const failure = this.#failure;
    return failure
      ? { position: this.#position, state: "failed", error: failure.error, failedAt: failure.at }
      : { position: this.#position, state: this.#state };
  }

  /** Catches up soon, unless failed or stopped (at most one run queued). */
  poke(): void {
    if (this.#wanted || this.#failure || this.#stopped) return;
    this.#wanted = true;
    void this.exclusive(async () => {
      this.#wanted = false;
      if (!this.#failure && !this.#stopped) await this.catchUp();
    }).catch(() => {});
  }

  /** Tries again from the last good position (after a fix); once stopped, throws why (nothing here would step). */
  start(): void {
    if (this.#stopped) throw this.#stopped;
    this.#generation++;
    this.#failure = undefined;
    this.poke();
  }

  /** Stops stepping for good; its waiters get `why`, as nothing here will get them there. */
  stop(why: TributaryError): void {
    this.#stopped = why;
    for (const waiter of this.#waiters) waiter.settle({ error: why, at: 0 });
  }

  /** Another tab moved the position on. */
  heard(position: number): void {
    this.#moved(position);
  }

  /**
   * Another tab cleared what this runs (to build it again): its position is 0 again.
   * This tab queues for the lock at once, so that if that tab closes mid-build,
   * this one carries the build on then, not at the next event.
   */
  cleared(): void {
    this.#position = 0;
    this.poke();
  }

  /** Clears a failure and the position (before a rebuild). */
  reset(): void {
    this.#failure = undefined;
    this.#position = 0;
  }

  /**
   * Steps until caught up, or until a step fails (the failure is kept). Stopped
   * meanwhile, it throws why, so that a rebuild cut short is not taken for done.
   */
  async catchUp(onStep?: (step: Step) => void): Promise<void> {
    const generation = this.#generation;
    this.#state = "running";
    try {
      for (;;) {
        const step = await calling(() => this.#step());
        this.#moved(step.position);
        this.#onStep(step);
        onStep?.(step);
        if (step.failed) {
          if (generation !== this.#generation) return this.poke(); // a run from before a restart: try again
          this.#fail({ error: typed(step.failed.error) as TributaryError, at: step.failed.notificationId });
          return;
        }
        if (step.position >= step.head) return;
      }
    } catch (error) {
      if (this.#stopped) throw this.#stopped;
      if (generation === this.#generation) this.#fail({ error: error as TributaryError, at: this.#position + 1 });
    } finally {
      this.#state = "idle";
    }
  }

  /**
   * Resolves once the position reaches `at`; rejects on a failure at or before it.
   * `polled` is the core's wait: it throws at once for wrong arguments (checked
   * before anything here compares `at`), sees positions that other tabs commit,
   * and fails with a TimeoutError when its time is up; it asks `wanted()` at each
   * turn and ends once this wait is decided.
   */
  async wait(at: number, polled: (wanted: () => boolean) => Promise<void>): Promise<void> {
    // Once this wait is decided, the core's polling ends at its next turn (it read on to its timeout).
    let decided = false;
    const polling = callingSync(() => polled(() => !decided));
    polling.catch(() => {}); // when the runner settles first, nobody needs to hear how polling ended
    if (this.#failure && at >= this.#failure.at) {
      decided = true;
      throw this.#failure.error;
    }
    let waiter!: { at: number; settle: (failure?: Failure) => void };
    const settled = new Promise<void>((resolve, reject) => {
      waiter = { at, settle: (failure) => (failure ? reject(failure.error) : resolve()) };
    });
    settled.catch(() => {}); // settled after the race was decided: nobody needs to hear
    this.#waiters.add(waiter);
    try {
      this.poke();
      await Promise.race([calling(() => polling), settled]);
    } finally {
      decided = true;
      this.#waiters.delete(waiter);
    }
  }

  /** Runs `task` after this tab's earlier tasks, holding the runner's Web Lock. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#turns.run(async () => {
      this.#session();
      return task();
    });
  }

  #moved(position: number): void {
    if (position > this.#position) this.#position = position;
    for (const waiter of this.#waiters) if (this.#position >= waiter.at) waiter.settle();
  }

  #fail(failure: Failure): void {
    this.#failure = failure;
    for (const waiter of this.#waiters) if (waiter.at >= failure.at) waiter.settle(failure);
    console.error(`tributary: ${this.#label} stopped at notification ${failure.at}:`, failure.error.message);
  }
}
