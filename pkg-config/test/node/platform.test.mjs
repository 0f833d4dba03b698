// The package in Node beyond one process's memory: syncing with the real server
// over Node's fetch, and imports that touch no browser global (server-side rendering).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { openApplication } from "tributary";
import { startServer, TOKEN } from "../server.mjs";

const servers = [];
after(() => Promise.all(servers.map((server) => server.stop())));

const device = async () => (await openApplication("dogschool", { storage: "memory" })).defineAggregate("Dog", {
  initial: () => ({ name: "" }),
  apply: { Registered: (dog, { name }) => ({ ...dog, name }) },
});

test("two devices in Node sync through the server over Node's fetch", async () => {
  const server = await startServer();
  servers.push(server);
  const url = server.app("dogschool");
  const [one, two] = [await device(), await device()];
  const { id } = await one.create("Dog", "Registered", { name: "Fido" });
  const [first, second] = [one.sync({ url, token: TOKEN }), two.sync({ url, token: TOKEN })];
  assert.deepEqual([(await first.now()).pushed, (await second.now()).pulled], [1, 1]);
  assert.equal((await two.get("Dog", id)).state.name, "Fido");
  const wrong = two.sync({ url, token: "wrong" });
  await assert.rejects(wrong.now(), { name: "AuthError" });
  one.close();
  two.close();
});

/** Imports `entry` in a fresh Node with every browser global trapped; the globals it touched. */
async function touchedOnImport(entry) {
  const script = `
    const touched = new Set();
    for (const name of ["window", "self", "document", "navigator", "location", "indexedDB", "IDBFactory", "localStorage",
      "sessionStorage", "BroadcastChannel", "fetch", "Worker", "requestAnimationFrame", "caches"]) {
      const had = Object.getOwnPropertyDescriptor(globalThis, name);
      Object.defineProperty(globalThis, name, { configurable: true, get() { touched.add(name); return had?.get ? had.get.call(this) : had?.value; } });
    }
    const module = await import(${JSON.stringify(entry)});
    if (typeof module.openApplication !== "function") throw new Error("no openApplication");
    console.log(JSON.stringify([...touched]));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL(".", import.meta.url)) });
  return JSON.parse(stdout);
}

test("importing the package (Node's entry, and the browser's as server-side rendering bundles it) touches no browser global", async () => {
  assert.deepEqual(await touchedOnImport("tributary"), []);
  assert.deepEqual(await touchedOnImport(fileURLToPath(new URL("../../dist/index.js", import.meta.url))), []);
});

test("the packed package carries its own README, its types, its JavaScript and the wasm", async () => {
  const folder = fileURLToPath(new URL("../..", import.meta.url));
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: folder });
  const files = JSON.parse(stdout)[0].files.map((file) => file.path);
  for (const wanted of ["README.md", "dist/index.js", "dist/index.d.ts", "dist/node.js", "types/wasm.d.ts", "wasm/tributary_bg.wasm"]) {
    assert.ok(files.includes(wanted), `${wanted} is not in the package`);
  }
});
