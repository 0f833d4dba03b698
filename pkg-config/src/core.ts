// Loading the WebAssembly core, and calling it: what the core throws becomes a
// typed error, and a trap (a panic: a bug) becomes an InternalError after which
// the core runs on a fresh instance. Handles made before a trap are dead.

import init, { takePanic, useErrorClasses } from "../wasm/tributary.js";
import { InternalError, kinds, StorageError, typed } from "./errors.js";

let loading: Promise<unknown> | undefined;
/** Bumped by each trap: handles of an older instance must not be used. */
let instance = 0;

/** Rejects when the current instance ends in a trap: its calls under way would never settle. */
function ending(): { promise: Promise<never>; end: (error: unknown) => void } {
  let end!: (error: unknown) => void;
  const promise = new Promise<never>((_, reject) => (end = reject));
  promise.catch(() => {});
  return { promise, end };
}
let ended = ending();

/** Loads the core once. */
export async function loadCore(): Promise<number> {
  loading ??= init().then(() => useErrorClasses(kinds));
  await loading;
  return instance;
}

/**
 * The core's handle, whose calls throw a StorageError once the instance it was made
 * under is gone (as the application's do), rather than the glue's untyped error.
 */
export function guarded<T extends object>(core: T, what: string): T {
  const made = instance;
  return new Proxy(core, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        alive(made, what);
        return value.apply(target, args);
      };
    },
  });
}

/** Throws unless handles made under `made` are still alive. */
export function alive(made: number, what: string): void {
  if (made !== instance) throw new StorageError(`${what} was closed when tributary was reset after an internal error; open it again`);
}

function failure(error: unknown): unknown {
  if (error instanceof WebAssembly.RuntimeError) {
    instance++;
    const message = takePanic() ?? `tributary stopped on ${error.message} and was reset`;
    const internal = new InternalError(`${message}; open your applications again`, { cause: error });
    ended.end(new StorageError("tributary was reset after an internal error while this call was under way; open your applications again", { cause: internal }));
    ended = ending();
    return internal;
  }
  return typed(error);
}

/** Runs a core call, turning what it throws into typed errors. */
export async function calling<T>(call: () => Promise<T> | T): Promise<T> {
  const end = ended.promise;
  try {
    return await Promise.race([call(), end]);
  } catch (error) {
    throw failure(error);
  }
}

/** Runs a synchronous core call, turning what it throws into typed errors. */
export function callingSync<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw failure(error);
  }
}
