// A page as the tests drive it, the same in every engine. An engine gives only the
// transport (`run`: an expression's awaited JSON value) and what a browser does to
// a page (reload, close, screenshot, its uncaught errors); everything else here is
// made of `run`, so a test means the same thing in Chromium, Firefox and WebKit.
import { decode, encode } from "./values.mjs";

/** The expression a page runs for `evaluate`: the function's outcome, encoded. */
const call = (source, arg) => `(async () => {
  const encode = ${encode}, decode = ${decode};
  try {
    const f = (0, eval)(${JSON.stringify(`(${source})`)});
    return { value: encode(await f(decode(${JSON.stringify(encode(arg))}))) };
  } catch (error) {
    return { thrown: encode(error) };
  }
})()`;

/** Waits in the page until `f(arg)` is truthy; its value. */
const waitFor = async ([source, arg, timeout]) => {
  const f = (0, eval)(`(${source})`);
  const until = performance.now() + timeout;
  for (;;) {
    const value = await f(arg);
    if (value) return value;
    if (performance.now() > until) throw new Error(`waitForFunction: not true within ${timeout} ms: ${source}`);
    await new Promise((done) => setTimeout(done, 25));
  }
};

/** An element's action: waits for `selector` (as Playwright does), then acts. */
const act = async ([selector, action, value, timeout]) => {
  const until = performance.now() + timeout;
  let element;
  while (!(element = document.querySelector(selector))) {
    if (performance.now() > until) throw new Error(`no element ${selector} within ${timeout} ms`);
    await new Promise((done) => setTimeout(done, 25));
  }
  const changed = () => {
    element.dispatchEvent(new Event("input", { bubbles: true }));
    element.dispatchEvent(new Event("change", { bubbles: true }));
  };
  switch (action) {
    case "click": element.click(); return null;
    case "fill": element.focus(); element.value = value; changed(); return null;
    case "select": element.value = value; changed(); return null;
    case "text": return element.textContent;
    case "wait": return null;
  }
};

const TIMEOUT = 30_000;

/** An error as a page's `String(error)` told it ("TypeError: message"). */
function thrown(text) {
  const [, name, message] = /^(\w*Error): ([\s\S]*)$/.exec(text) ?? [, "Error", text];
  return Object.assign(new Error(message), { name });
}

export class Page {
  #raw;
  #listeners = { pageerror: [], console: [] };

  /** A page the engine opens with `open(heard)`: it gives `heard` what the page left uncaught or logged as an error. */
  static async open(open) {
    const page = new Page();
    page.#raw = await open((kind, text) => {
      if (kind === "pageerror") for (const listener of page.#listeners.pageerror) listener(thrown(text));
      if (kind === "console-error") for (const listener of page.#listeners.console) listener({ type: () => "error", text: () => text });
    });
    return page;
  }

  /** Runs `fn(arg)` in the page; its value, or its error thrown here. */
  async evaluate(fn, arg) {
    const source = typeof fn === "function" ? String(fn) : `() => (${fn})`;
    const outcome = await this.#raw.run(call(source, arg));
    if (outcome === null || typeof outcome !== "object") throw new Error(`page.evaluate: the page answered ${outcome}`);
    if ("thrown" in outcome) {
      const error = decode(outcome.thrown);
      throw Object.assign(new Error(`page.evaluate: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`), { cause: error });
    }
    return decode(outcome.value);
  }

  /** Resolves once `fn(arg)` is truthy in the page (polled there), with its value. */
  waitForFunction(fn, arg, { timeout = TIMEOUT } = {}) {
    return this.evaluate(waitFor, [String(fn), arg, timeout]);
  }

  waitForSelector(selector, { timeout = TIMEOUT } = {}) { return this.evaluate(act, [selector, "wait", null, timeout]); }
  click(selector) { return this.evaluate(act, [selector, "click", null, TIMEOUT]); }
  fill(selector, value) { return this.evaluate(act, [selector, "fill", value, TIMEOUT]); }
  selectOption(selector, value) { return this.evaluate(act, [selector, "select", value, TIMEOUT]); }
  textContent(selector) { return this.evaluate(act, [selector, "text", null, TIMEOUT]); }
  /** `fn` of every element `selector` finds, in the page. */
  $$eval(selector, fn) {
    return this.evaluate(([selector, source]) => (0, eval)(`(${source})`)([...document.querySelectorAll(selector)]), [selector, String(fn)]);
  }
  locator(selector) {
    return {
      count: () => this.evaluate((selector) => document.querySelectorAll(selector).length, selector),
      fill: (value) => this.fill(selector, value),
      click: () => this.click(selector),
    };
  }

  /** "pageerror": an error the page left uncaught; "console": a console.error. */
  on(event, listener) { this.#listeners[event].push(listener); }

  reload() { return this.#raw.reload(); }
  url() { return this.#raw.url(); }
  close() { return this.#raw.close(); }
  screenshot({ path, fullPage = false }) { return this.#raw.screenshot(path, fullPage); }
  /** Why the engine would not offer to install the page as an app; undefined where it cannot say (only Chromium can). */
  installability() { return this.#raw.installability?.(); }
  /** The engine's name: chromium, firefox or webkit. */
  get engine() { return this.#raw.engine; }
}
