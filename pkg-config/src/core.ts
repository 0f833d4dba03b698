// Loading the WebAssembly core, and calling it: what the core throws becomes a
// typed error, and a trap (a panic: a bug) becomes an InternalError after which
// the core runs on a fresh instance. Handles made before a trap are dead.

import init, { takePanic, useErrorClasses } from "../wasm/tributary.js";
import { InternalError, kinds, StorageError, typed } from "./errors.js";

let loading: Promise<unknown> | undefined;
/** Bumped by each trap: handles of an older instance must not be used. */
let instance = 0;

/** Loads the core once. */
export async function loadCore(): Promise<number> {
  loading ??= init().then(() => useErrorClasses(kinds));
  await loading;
  return instance;
}

/** Throws unless handles made under `made` are still alive. */
export function alive(made: number, what: string): void {
  if (made !== instance) throw new StorageError(`${what} was closed when tributary was reset after an internal error; open it again`);
}

function failure(error: unknown): unknown {
  if (error instanceof WebAssembly.RuntimeError) {
    instance++;
    const message = takePanic() ?? `tributary stopped on ${error.message} and was reset`;
    return new InternalError(`${message}; open your applications again`, { cause: error });
  }
  return typed(error);
}

/** Runs a core call, turning what it throws into typed errors. */
export async function calling<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call();
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
