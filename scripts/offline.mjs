// Makes the dashboard work offline: writes www/sw.js, a service worker that
// keeps every file the page loads (the page, its scripts and styles, the
// package's JavaScript and WebAssembly) in a cache named after their contents.
// A changed file makes another sw.js: the browser installs it beside the old
// one, fills its cache whole, then it takes over and the old cache goes, so a
// load is served by one version, never a mix. Run by build.sh after the package
// is installed into www/. Usage: node scripts/offline.mjs [folder]   (default www/)
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const www = process.argv[2] ?? fileURLToPath(new URL("../www/", import.meta.url));
/** What the page loads; the packages only as the page uses them (no types, no sources for tools). */
const kept = (path) =>
  !path.startsWith("node_modules/") ? !/^(sw\.js|package\.json|package-lock\.json|sync\.json|biomero\.json)$/.test(path)
    : /^node_modules\/(tributary\/(dist\/[^/]+\.js|wasm\/tributary(_bg\.wasm|\.js)|wasm\/snippets\/.+\.js)|uplot\/dist\/uPlot\.(esm\.js|min\.css))$/.test(path);

function files(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? files(path) : [relative(www, path)];
  });
}

const kept_files = files(www).filter(kept).sort();
const hash = createHash("sha256");
for (const file of kept_files) hash.update(file).update("\0").update(readFileSync(join(www, file))).update("\0");
const version = `tributary-dashboard-${hash.digest("hex").slice(0, 16)}`;
const urls = ["./", ...kept_files.map((file) => `./${file}`)];

writeFileSync(join(www, "sw.js"), `// Written by scripts/offline.mjs: do not edit. The dashboard's files, kept for offline use.
const VERSION = ${JSON.stringify(version)};
const FILES = ${JSON.stringify(urls, null, 0)};
/** Settings a run writes beside the page: fresh when online, the last ones offline. */
const SETTINGS = /\\/(sync|biomero)\\.json$/;
const SETTINGS_CACHE = "tributary-dashboard-settings";

self.addEventListener("install", (event) => {
  // The whole version, or nothing: a failed download leaves the old one in charge.
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(FILES.map((url) => new Request(url, { cache: "reload" })))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== VERSION && name !== SETTINGS_CACHE && name.startsWith("tributary-dashboard-")) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return; // the sync server, say
  if (SETTINGS.test(url.pathname)) {
    event.respondWith((async () => {
      const cache = await caches.open(SETTINGS_CACHE);
      try {
        const response = await fetch(event.request);
        if (response.ok) await cache.put(url.pathname, response.clone());
        return response;
      } catch (error) {
        return (await cache.match(url.pathname)) ?? Response.error();
      }
    })());
    return;
  }
  // This version's file if it is one (a page with any query), else the network.
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    return (await cache.match(event.request, { ignoreSearch: event.request.mode === "navigate" })) ?? fetch(event.request);
  })());
});
`);
console.log(`[offline] ${relative(process.cwd(), join(www, "sw.js"))} keeps ${urls.length} files as ${version}`);
