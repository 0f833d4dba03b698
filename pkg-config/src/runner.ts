// The one runner of the facade: it performs what the core's runner rules decide
// for a view or a follower (src/runtime/runner.rs: pokes coalesced into one
// queued turn, a failure stops it until `start()`, waiters settled once), holding
// a Web Lock per runner so that one tab at a time runs it. What a step does is
// the core's business too.

import { CoreRunner } from "../wasm/tributary.js";
import { alive, calling, callingSync, current } from "./core.js";
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

/** What the core's rules ask of the runner. */
type Effect = { queue: true } | { settle: number; error?: TributaryError } | { failed: number; error: TributaryError };

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
  readonly #rules = new CoreRunner();
  /** The core instance the rules live in: after a reset (a panic), they are gone. */
  readonly #made = current();
  #last: RunnerStatus = { position: 0, state: "idle" };
  readonly #waiters = new Map<number, (error?: TributaryError) => void>();

  constructor(label: string, lock: string | null, step: () => Promise<Step>, session: () => void, onStep: (step: Step) => void) {
    this.#label = label;
    this.#turns = new Turns(lock);
    this.#step = step;
    this.#session = session;
    this.#onStep = onStep;
  }

  status(): RunnerStatus {
    return this.#alive() ? (this.#last = this.#rules.status()) : this.#last;
  }

  /** Catches up soon, unless failed or stopped (at most one run queued). */
  poke(): void {
    if (this.#alive()) this.#perform(this.#rules.poke());
  }

  /** Tries again from the last good position (after a fix); once stopped, throws why (nothing here would step). */
  start(): void {
    alive(this.#made, this.#label);
    this.#perform(this.#rules.start());
  }

  /** Stops stepping for good; its waiters get `why`, as nothing here will get them there. */
  stop(why: TributaryError): void {
    if (this.#alive()) return this.#perform(this.#rules.stop(why));
    for (const settle of this.#waiters.values()) settle(why);
    this.#waiters.clear();
  }

  /** Another tab moved the position on. */
  heard(position: number): void {
    if (this.#alive()) this.#perform(this.#rules.heard(position));
  }

  /** Another tab cleared what this runs (to build it again): see the core's rules. */
  cleared(): void {
    if (this.#alive()) this.#perform(this.#rules.cleared());
  }

  /** Clears a failure and the position (before a rebuild). */
  reset(): void {
    if (this.#alive()) this.#rules.reset();
  }

  /**
   * Steps until caught up, or until a step fails (the failure is kept). Stopped
   * meanwhile, it throws why, so that a rebuild cut short is not taken for done.
   */
  async catchUp(onStep?: (step: Step) => void): Promise<void> {
    alive(this.#made, this.#label);
    const generation = this.#rules.began();
    try {
      for (;;) {
        const step = await calling(() => this.#step());
        const failed = step.failed;
        const { done, effects } = this.#rules.stepped(generation, step.position, step.head, failed?.notificationId, failed && typed(failed.error));
        this.#onStep(step);
        onStep?.(step);
        this.#perform(effects);
        if (done) return;
      }
    } catch (error) {
      if (!this.#alive()) throw error;
      this.#perform(this.#rules.threw(generation, error));
    }
  }

  /**
   * Resolves once the position reaches `at`; rejects on a failure at or before it.
   * `polled` is the core's wait: it throws at once for wrong arguments (checked
   * before the rules see `at`), sees positions that other tabs commit, and fails
   * with a TimeoutError when its time is up; it asks `wanted()` at each turn and
   * ends once this wait is decided.
   */
  async wait(at: number, polled: (wanted: () => boolean) => Promise<void>): Promise<void> {
    // Once this wait is decided, the core's polling ends at its next turn (it read on to its timeout).
    let decided = false;
    const polling = callingSync(() => polled(() => !decided));
    polling.catch(() => {}); // when the runner settles first, nobody needs to hear how polling ended
    let waiter: number;
    let effects: Effect[];
    try {
      alive(this.#made, this.#label);
      [waiter, ...effects] = this.#rules.wait(at);
    } catch (error) {
      decided = true;
      throw error;
    }
    const settled = new Promise<void>((resolve, reject) => this.#waiters.set(waiter, (error) => (error ? reject(error) : resolve())));
    settled.catch(() => {}); // settled after the race was decided: nobody needs to hear
    this.#perform(effects);
    try {
      await Promise.race([calling(() => polling), settled]);
    } finally {
      decided = true;
      this.#waiters.delete(waiter);
      if (this.#alive()) this.#rules.unwait(waiter);
    }
  }

  /** Runs `task` after this tab's earlier tasks, holding the runner's Web Lock. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#turns.run(async () => {
      this.#session();
      return task();
    });
  }

  #perform(effects: Effect[]): void {
    for (const effect of effects) {
      if ("queue" in effect) {
        void this.exclusive(async () => {
          if (this.#alive() && this.#rules.turn()) await this.catchUp();
        }).catch(() => {});
      } else if ("settle" in effect) {
        this.#waiters.get(effect.settle)?.(effect.error);
        this.#waiters.delete(effect.settle);
      } else {
        console.error(`tributary: ${this.#label} stopped at notification ${effect.failed}:`, effect.error.message);
      }
    }
  }

  /** Whether the rules' core instance is still the current one. */
  #alive(): boolean {
    return this.#made === current();
  }
}
