// The packed package in apps built as users build them (test/bundlers/: one small
// app, no bundler configuration): Vite 5 to 8, both its dev server and its
// production build, webpack 5, and esbuild with the README's one line. Each app
// records, reads, runs a view, and after a reload finds what it stored.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { serve } from "../../scripts/serve.mjs";
import { tabs } from "./browser.mjs";

const run = promisify(execFile);
const app = fileURLToPath(new URL("./bundlers/", import.meta.url));
const bin = (path) => join(app, "node_modules", path);
let out;
const stop = [];

before(async () => {
  const packed = fileURLToPath(new URL("../../target/npm/", import.meta.url));
  const tarball = (await readdir(packed)).find((name) => /^tributary-.*\.tgz$/.test(name));
  await run("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", join(packed, tarball)], { cwd: app });
  out = await mkdtemp(join(tmpdir(), "tributary-bundlers-"));
});

after(async () => {
  for (const close of stop) await close();
  await rm(out, { recursive: true, force: true });
});

/** Serves a built app's folder at the root of an origin of its own. */
async function served(folder) {
  const server = await serve(0, { "/": folder });
  stop.push(() => new Promise((done) => server.close(done)));
  return `http://127.0.0.1:${server.address().port}/`;
}

/** The page's outcome, once the app has shown it. */
async function outcome(page) {
  await page.waitForFunction(() => document.getElementById("out")?.textContent, null, { timeout: 60_000 });
  return JSON.parse(await page.textContent("#out"));
}

/** Loads the app at `url`, then again: the second visit finds the first one's dog and count. */
async function visitTwice(url) {
  const { pages: [page], close } = await tabs(1, url);
  const first = await outcome(page);
  assert.deepEqual(first, { dog: { name: "Fido", tricks: ["sit"] }, events: 2, sit: 1 });
  await page.reload();
  assert.deepEqual(await outcome(page), { dog: { name: "Fido", tricks: ["sit"] }, events: 4, sit: 2 });
  await close();
}

/** Vite's dev server on a free port, as `npx vite` runs it; its URL. */
async function viteDev(vite) {
  const port = await new Promise((done) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(String(port)));
    });
  });
  const child = spawn(process.execPath, [bin(`${vite}/bin/vite.js`), "--host", "127.0.0.1", "--port", port, "--strictPort", "--force", "--clearScreen", "false"], {
    cwd: app,
    stdio: ["ignore", "pipe", "inherit"],
  });
  stop.push(() => new Promise((done) => (child.exitCode === null ? (child.once("exit", done), child.kill()) : done())));
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line.replace(/\x1b\[[0-9;]*m/g, ""))?.[1];
    if (url) return url;
  }
  throw new Error(`${vite} exited before it served`);
}

for (const vite of ["vite5", "vite6", "vite7", "vite8"]) {
  test(`${vite.replace("vite", "Vite ")}'s dev server serves the app as it is`, async () => {
    await visitTwice(await viteDev(vite));
  });

  test(`${vite.replace("vite", "Vite ")}'s production build works as it is`, async () => {
    const dist = join(out, vite);
    await run(process.execPath, [bin(`${vite}/bin/vite.js`), "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn"], { cwd: app });
    await visitTwice(await served(dist));
  });
}

test("webpack 5's production build works as it is", async () => {
  const dist = join(out, "webpack");
  await run(process.execPath, [bin("webpack-cli/bin/cli.js"), "--mode", "production", "--entry", "./main.js", "--output-path", dist], { cwd: app });
  await copyFile(join(app, "index.html"), join(dist, "index.html"));
  await visitTwice(await served(dist));
});

test("esbuild works with the README's line (its file loader and init), and without it says what to do", async () => {
  const esbuild = (entry, dist, ...flags) => run(bin("esbuild/bin/esbuild"),
    [entry, "--bundle", "--format=esm", "--target=es2022", `--outfile=${join(dist, "main.js")}`, "--log-level=warning", ...flags], { cwd: app });
  const dist = join(out, "esbuild");
  await esbuild("esbuild.js", dist, "--loader:.wasm=file");
  await copyFile(join(app, "index.html"), join(dist, "index.html"));
  await visitTwice(await served(dist));

  const plain = join(out, "esbuild-plain");
  await esbuild("main.js", plain);
  await copyFile(join(app, "index.html"), join(plain, "index.html"));
  const { pages: [page], close } = await tabs(1, await served(plain));
  const { error } = await outcome(page);
  assert.match(error, /^TributaryError: tributary could not load its WebAssembly core \(.*404 .*\): .* init\(\{ wasm \}\)/);
  await close();
});
