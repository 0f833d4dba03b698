// Loading the WebAssembly core, and calling it: what the core throws becomes a
// typed error, and a trap (a panic: a bug) becomes an InternalError after which
// the core runs on a fresh instance. Handles made before a trap are dead.

import init, { takePanic, useErrorClasses } from "../wasm/tributary.js";
import { InternalError, kinds, StorageError, typed } from "./errors.js";

let loading: Promise<unknown> | undefined;
/** Bumped by each trap: handles of an older instance must not be used. */
let instance = 0;

/**
 * The rejecters of the calls under way: a trap rejects them all, as their instance will
 * never settle them. Each call takes its own out when it settles, so that nothing keeps
 * what a call returned (a promise shared by every call would hold each one's result).
 */
const underWay = new Set<(error: unknown) => void>();

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
    const interrupted = new StorageError("tributary was reset after an internal error while this call was under way; open your applications again", { cause: internal });
    for (const reject of underWay) reject(interrupted);
    underWay.clear();
    return internal;
  }
  return typed(error);
}

/** Runs a core call, turning what it throws into typed errors. */
export async function calling<T>(call: () => Promise<T> | T): Promise<T> {
  let reject!: (error: unknown) => void;
  const interrupted = new Promise<never>((_, rejecter) => (reject = rejecter));
  interrupted.catch(() => {}); // a call that threw at once is not racing it
  underWay.add(reject);
  try {
    return await Promise.race([call(), interrupted]);
  } catch (error) {
    throw failure(error);
  } finally {
    underWay.delete(reject);
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
