// Loading the WebAssembly core, and calling it: what the core throws becomes a
// typed error, and a trap (a panic: a bug) becomes an InternalError after which
// the core runs on a fresh instance. Handles made before a trap are dead.

import load, { takePanic, useErrorClasses } from "../wasm/tributary.js";
import { InternalError, kinds, StorageError, TributaryError, typed } from "./errors.js";

/**
 * Where the WebAssembly core comes from: its URL, a `fetch` response (or its
 * promise), its bytes, or a compiled module.
 */
export type WasmSource = URL | string | Response | PromiseLike<Response> | BufferSource | WebAssembly.Module;

/** The core's own file, beside the package's JavaScript; Node's entry reads it from disk. */
let defaultSource: () => WasmSource | Promise<WasmSource> = () => located(new URL("../wasm/tributary_bg.wasm", import.meta.url));

/** @internal Node's entry (`dist/node.js`): the core's bytes come from its file. */
export function readCoreWith(read: () => Promise<BufferSource>): void {
  defaultSource = read;
}

let loading: Promise<unknown> | undefined;
/** Bumped by each trap: handles of an older instance must not be used. */
let instance = 0;

/**
 * The rejecters of the calls under way: a trap rejects them all, as their instance will
 * never settle them. Each call takes its own out when it settles, so that nothing keeps
 * what a call returned (a promise shared by every call would hold each one's result).
 */
const underWay = new Set<(error: unknown) => void>();

/**
 * Loads the WebAssembly core from `wasm` rather than from beside the package's
 * JavaScript: for a bundler that does not serve the package's `.wasm` file as it
 * is. Call it before the first `openApplication`; later calls wait for the core
 * already loading, from wherever it comes.
 * @example
 * import wasm from "tributary/wasm"; // esbuild, with --loader:.wasm=file
 * await init({ wasm: new URL(wasm, import.meta.url) });
 */
export async function init(options: { wasm?: WasmSource } = {}): Promise<void> {
  await start(options.wasm);
}

/** Loads the core once. */
export async function loadCore(): Promise<number> {
  await start(undefined);
  return instance;
}

function start(wasm: WasmSource | undefined): Promise<unknown> {
  loading ??= (async () => {
    await load({ module_or_path: await (wasm ?? defaultSource()) });
    useErrorClasses(kinds);
  })().catch((error: unknown) => {
    loading = undefined; // not loaded: init({ wasm }) may try again
    throw error;
  });
  return loading;
}

/**
 * The core's file at `url`, checked: a server that answers with something else
 * (a dev server's HTML page for a path it does not know) is told apart from a
 * broken core. Vite's dev server (5 to 7) moves the package's JavaScript into
 * `node_modules/.vite/deps/`, away from its `.wasm`: then the file is asked for
 * where the package is installed.
 */
async function located(url: URL): Promise<Response | ArrayBuffer> {
  const moved = /^(.*)\/node_modules\/\.vite\//.exec(new URL(import.meta.url).pathname);
  const tries = [url, ...(moved ? [new URL(`${moved[1]}/node_modules/tributary/wasm/tributary_bg.wasm`, url)] : [])];
  let why = "";
  for (const at of tries) {
    const response = await fetch(at).catch((error: unknown) => error as Error);
    if (response instanceof Error) {
      why = `${why}${at}: ${response.message}; `;
      continue;
    }
    if (response.ok && response.headers.get("content-type")?.split(";")[0]?.trim() === "application/wasm") return response;
    const bytes = response.ok ? await response.arrayBuffer() : new ArrayBuffer(0);
    if (isWasm(bytes)) return bytes;
    why = `${why}${at}: ${response.ok ? `not WebAssembly (${response.headers.get("content-type") ?? "no content type"})` : `${response.status} ${response.statusText}`}; `;
  }
  throw new TributaryError(
    `tributary could not load its WebAssembly core (${why.slice(0, -2)}): serve node_modules/tributary/wasm/tributary_bg.wasm, ` +
    `or pass it with init({ wasm }) before the first openApplication (see the README on bundlers)`,
  );
}

/** Starts with WebAssembly's magic number. */
function isWasm(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return head.length === 4 && head[0] === 0 && head[1] === 0x61 && head[2] === 0x73 && head[3] === 0x6d;
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

/** The core instance now: handles made under another are dead. */
export function current(): number {
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
