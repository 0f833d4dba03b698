// Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi. A context is
// a fresh user context (its own storage); each page is a window of it, so that
// no page is a background tab (whose timers Firefox slows to once a second).
import { writeFile } from "node:fs/promises";
import puppeteer from "puppeteer-core";

const start = (prefs = {}) => puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
  headless: true,
  extraPrefsFirefox: prefs,
});

const UNCAUGHT = "tributary-test uncaught: ";

/** Runs in each page before its scripts: tells the test what the page left uncaught. */
function reportUncaught() {
  const tell = (error) => console.debug(`tributary-test uncaught: ${String(error)}`);
  addEventListener("error", (event) => tell(event.error ?? event.message));
  addEventListener("unhandledrejection", (event) => tell(event.reason));
}

export async function launch() {
  const browser = await start();
  return {
    version: await browser.version(),
    /** `quota`: bytes of storage the whole browser may use: then a browser of its own. */
    async newContext({ quota } = {}) {
      const own = quota && await start({ "dom.quotaManager.temporaryStorage.fixedLimit": Math.ceil(quota / 1024) });
      const context = await (own ?? browser).createBrowserContext();
      return {
        async newPage(url, heard) {
          const page = await context.newPage({ type: "window" });
          const raw = {
            engine: "firefox",
            run: (expression) => page.evaluate(expression),
            reload: () => page.reload().then(() => {}),
            url: () => page.url(),
            close: () => page.close(),
            screenshot: async (path, fullPage) => writeFile(path, await page.screenshot({ fullPage })),
          };
          // Firefox reports its own network messages (a CORS request that failed, say) as
          // page errors too: the page's own listeners tell uncaught errors apart.
          await page.evaluateOnNewDocument(reportUncaught);
          page.on("console", (message) => {
            const text = message.text();
            if (message.type() === "debug" && text.startsWith(UNCAUGHT)) heard("pageerror", text.slice(UNCAUGHT.length));
            else if (message.type() === "error") heard("console-error", text);
          });
          await page.goto(url);
          return raw;
        },
        close: async () => {
          await context.close();
          await own?.close();
        },
      };
    },
    close: () => browser.close(),
  };
}
