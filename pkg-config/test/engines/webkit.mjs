// WebKitGTK (Safari's engine): Debian's MiniBrowser, driven by WebKitWebDriver
// (classic WebDriver, through selenium-webdriver) under Xvfb. A driver holds one
// session, and a session is one profile: a context is a driver of its own, and
// each page a window of it. Classic WebDriver runs one script at a time per
// session, so pages answer through an agent instead: a script the driver puts
// in each page after it loads, which runs what the test sends over a WebSocket.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { Builder } from "selenium-webdriver";
import { WebSocketServer } from "ws";

const MINIBROWSER = process.env.MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** The page side of the agent: runs each expression it is sent, answers with its awaited value. */
function agent(url, id) {
  if (window.__tributaryAgent) return;
  window.__tributaryAgent = true;
  const socket = new WebSocket(`${url}/?page=${id}`);
  const queued = [];
  const send = (message) => (socket.readyState === 1 ? socket.send(JSON.stringify(message)) : queued.push(message));
  socket.onopen = () => {
    socket.send(JSON.stringify({ hello: true }));
    for (const message of queued.splice(0)) socket.send(JSON.stringify(message));
  };
  socket.onmessage = async (event) => {
    const { n, expression } = JSON.parse(event.data);
    try {
      send({ n, value: await (0, eval)(expression) });
    } catch (error) {
      send({ n, error: String(error) });
    }
  };
  // With the stack, if any: an uncaught error from a browser callback says little else.
  const told = (error) => (error?.stack ? `${error}\n${error.stack}` : String(error));
  addEventListener("error", (event) => send({ heard: "pageerror", text: told(event.error ?? event.message) }));
  addEventListener("unhandledrejection", (event) => send({ heard: "pageerror", text: told(event.reason) }));
  const error = console.error;
  console.error = (...args) => {
    send({ heard: "console-error", text: args.map(String).join(" ") });
    error.apply(console, args);
  };
}

/**
 * WebKitGTK lets no one set a quota (and has no navigator.storage): the nearest it
 * allows is what the browser does at a quota, a readwrite transaction aborted when
 * it commits, here once the values it put exceed `bytes`.
 */
function quota(bytes) {
  if (window.__tributaryQuota) return;
  window.__tributaryQuota = true;
  const size = (value) => {
    if (typeof value === "string") return value.length;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
    if (value && typeof value === "object") return Object.values(value).reduce((sum, field) => sum + size(field), 0);
    return 8;
  };
  const put = new WeakMap();
  for (const method of ["add", "put"]) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (value, ...rest) {
      put.set(this.transaction, (put.get(this.transaction) ?? 0) + size(value));
      return original.call(this, value, ...rest);
    };
  }
  const commit = IDBTransaction.prototype.commit;
  IDBTransaction.prototype.commit = function () {
    return (put.get(this) ?? 0) > bytes ? this.abort() : commit.call(this);
  };
}

/** A free port on loopback (for a driver, which must be told one). */
const freePort = () => new Promise((done, fail) => {
  const probe = createServer().once("error", fail).listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => done(port));
  });
});

/** Gives up on `promise` after `ms`: a WebDriver command that never answers fails the test instead of hanging it. */
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`WebKit: ${what} took over ${ms / 1000} s`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Xvfb on a display it picks, unless there is a display already. */
async function display() {
  if (process.env.DISPLAY) return { name: process.env.DISPLAY, stop: () => {} };
  const xvfb = spawn("Xvfb", ["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "pipe", "ignore"] });
  const number = await new Promise((done, fail) => {
    xvfb.once("error", fail);
    xvfb.once("exit", (code) => fail(new Error(`Xvfb exited with ${code}`)));
    createInterface({ input: xvfb.stdout }).once("line", done);
  });
  return { name: `:${number.trim()}`, stop: () => xvfb.kill() };
}

export async function launch() {
  const screen = await display();
  const answers = new Map(); // page id -> the agent's connection, once it said hello
  const sockets = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((done) => sockets.once("listening", done));
  const agentUrl = `ws://127.0.0.1:${sockets.address().port}`;
  sockets.on("connection", (socket, request) => {
    const id = new URL(request.url, agentUrl).searchParams.get("page");
    const page = answers.get(id);
    if (!page) return socket.close();
    socket.on("message", (data) => page.receive(socket, JSON.parse(String(data))));
    socket.on("close", () => page.lost(socket));
  });
  let pages = 0, version;

  /** A driver of its own, and its session (one MiniBrowser); tried again once if it does not start. */
  const session = async (tries = 2) => {
    const port = await freePort();
    const driverProcess = spawn("WebKitWebDriver", [`--port=${port}`, "--host=127.0.0.1"], {
      stdio: "ignore",
      env: { ...process.env, DISPLAY: screen.name },
    });
    const build = async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
            browserName: "MiniBrowser",
            "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
          }).build();
        } catch (error) {
          if (attempt > 100) throw error; // the driver is not listening yet
          await new Promise((done) => setTimeout(done, 50));
        }
      }
    };
    try {
      return { driver: await within(60_000, "starting a session", build()), driverProcess };
    } catch (error) {
      driverProcess.kill();
      if (tries <= 1) throw error;
      return session(tries - 1);
    }
  };

  const newContext = async ({ quota: bytes } = {}) => {
    const { driver, driverProcess } = await session();
    version ??= (await driver.getCapabilities()).get("browserVersion");
    // A window no page uses: the session's first, or one made when a page closed the
    // last window (which would end the session).
    let spare = await driver.getWindowHandle();
    let windows = 0;
    // One command at a time: each switches to its window first.
    let queue = Promise.resolve();
    const inWindow = (handle, command) => {
      const run = queue.then(() => within(60_000, String(command), (async () => {
        await driver.switchTo().window(handle);
        return command();
      })()));
      queue = run.catch(() => {});
      return run;
    };

    return {
      async newPage(url, heard) {
        const id = String(++pages);
        const handle = spare ?? await (queue = queue.then(() => within(60_000, "opening a window", (async () => {
          await driver.switchTo().newWindow("window");
          return driver.getWindowHandle();
        })())));
        spare = undefined;
        windows++;
        let socket, hello, closed = false, n = 0;
        const pending = new Map();
        const greeted = () => new Promise((done) => (hello = done));
        const raw = {
          engine: "webkit",
          async run(expression) {
            if (!socket) throw new Error("the page is gone");
            const at = ++n;
            return new Promise((resolve, reject) => {
              pending.set(at, { resolve, reject });
              socket.send(JSON.stringify({ n: at, expression }));
            });
          },
          async reload() {
            const greeting = greeted();
            await inWindow(handle, () => driver.navigate().refresh());
            await prepare();
            await within(60_000, "the page's agent to connect", greeting);
          },
          url: () => current,
          async close() {
            if (closed) return;
            closed = true;
            if (--windows === 0 && !spare) {
              // The session's last window: a new one keeps the session (and the
              // profile) alive, and becomes the next page's.
              spare = await (queue = queue.then(() => within(60_000, "opening a window", (async () => {
                await driver.switchTo().newWindow("window");
                return driver.getWindowHandle();
              })())));
            }
            await inWindow(handle, () => driver.close());
          },
          async screenshot(path) {
            await writeFile(path, Buffer.from(await inWindow(handle, () => driver.takeScreenshot()), "base64"));
          },
        };
        answers.set(id, {
          receive(from, message) {
            if (message.hello) {
              socket = from;
              hello?.();
            } else if (message.heard) {
              heard(message.heard, message.text);
            } else if (pending.has(message.n)) {
              const { resolve, reject } = pending.get(message.n);
              pending.delete(message.n);
              if ("error" in message) reject(new Error(message.error));
              else resolve(message.value);
            }
          },
          lost(from) {
            if (from !== socket) return;
            socket = undefined;
            for (const { reject } of pending.values()) reject(new Error("the page closed or navigated while it ran"));
            pending.clear();
          },
        });
        const current = url;
        const prepare = async () => {
          if (bytes) await inWindow(handle, () => driver.executeScript(quota, bytes));
          await inWindow(handle, () => driver.executeScript(agent, agentUrl, id));
        };
        const greeting = greeted();
        await inWindow(handle, () => driver.get(url));
        await prepare();
        await within(60_000, "the page's agent to connect", greeting);
        return raw;
      },
      async close() {
        await queue;
        await driver.quit().catch(() => {});
        driverProcess.kill();
      },
    };
  };

  return {
    get version() { return version; },
    newContext,
    async close() {
      sockets.close();
      screen.stop();
    },
  };
}
