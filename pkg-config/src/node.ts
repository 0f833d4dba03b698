// tributary in Node (the package's "node" export): the same API, with the core
// read from the package's own file, as Node's fetch reads no file: URLs.
import { readFile } from "node:fs/promises";
import { readCoreWith } from "./core.js";

readCoreWith(() => readFile(new URL("../wasm/tributary_bg.wasm", import.meta.url)));

export * from "./index.js";
