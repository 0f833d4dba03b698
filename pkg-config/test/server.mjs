// The tributary server binary (target/release/tributary-server, built by
// scripts/build.sh) for page tests: started on a free port over a fresh data
// folder, killed (SIGKILL), restarted on the same port, stopped.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export const TOKEN = "acme-page-token";
const binary = process.env.TRIBUTARY_SERVER ?? fileURLToPath(new URL("../../target/release/tributary-server", import.meta.url));

/** Starts the server; resolves once it listens. */
export async function startServer({ listen = "127.0.0.1:0", data = mkdtempSync(join(tmpdir(), "tributary-page-")), args = [] } = {}) {
  const child = spawn(binary, ["--listen", listen, "--data", data, "--tenant", `acme=${TOKEN}`, "--allow-origin", "*", ...args], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  const base = line.trim().split(" ").at(-1);
  const server = {
    base,
    data,
    app: (name) => `${base}/acme/${name}`,
    /** SIGKILL; resolves once it is gone. */
    kill: () => new Promise((done) => { child.once("exit", done); child.kill("SIGKILL"); }),
    /** Starts again on the same port and data. */
    restart: async () => {
      for (let i = 0; i < 50; i++) {
        try {
          return await startServer({ listen: base.replace("http://", ""), data, args });
        } catch {
          await new Promise((done) => setTimeout(done, 50));
        }
      }
      throw new Error("the server did not start again");
    },
    /** Stops it and removes its data. */
    stop: async () => {
      if (child.exitCode === null) await new Promise((done) => { child.once("exit", done); child.kill("SIGTERM"); });
      rmSync(data, { recursive: true, force: true });
    },
  };
  return server;
}
