// Debian's Chromium, driven by playwright-core over CDP. A context is a fresh
// profile (its own storage); each page is a tab of it.
import { writeFile } from "node:fs/promises";
import { chromium } from "playwright-core";

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  return {
    version: browser.version(),
    /** `quota`: bytes of storage each page's origin may use. */
    async newContext({ quota } = {}) {
      const context = await browser.newContext();
      return {
        async newPage(url, heard) {
          const page = await context.newPage();
          const raw = {
            engine: "chromium",
            run: (expression) => page.evaluate(expression),
            reload: () => page.reload().then(() => {}),
            url: () => page.url(),
            close: () => page.close(),
            screenshot: async (path, fullPage) => writeFile(path, await page.screenshot({ fullPage })),
            /** Why Chromium would not offer to install the page as an app (none: installable). */
            installability: async () => (await (await context.newCDPSession(page)).send("Page.getInstallabilityErrors")).installabilityErrors,
          };
          page.on("pageerror", (error) => heard("pageerror", error.stack || String(error)));
          page.on("console", (message) => message.type() === "error" && heard("console-error", message.text()));
          await page.goto(url);
          if (quota) {
            const cdp = await context.newCDPSession(page);
            await cdp.send("Storage.overrideQuotaForOrigin", { origin: new URL(url).origin, quotaSize: quota });
          }
          return raw;
        },
        /** Takes the whole profile off the network, or back on (Chromium only). */
        offline: (on) => context.setOffline(on),
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
