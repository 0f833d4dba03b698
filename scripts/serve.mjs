// Serves the demo dashboard (www/) and the package (pkg-config/) on 127.0.0.1.
// Usage: node scripts/serve.mjs [port]   (port 0 picks a free one; the URL is printed)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml",
  ".map": "application/json", ".ts": "text/plain; charset=utf-8",
};
/** Only these folders are served: the page and the package it uses. */
const served = ["www", "pkg-config"];

export function serve(port = 8080) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    if (path === "/") {
      response.writeHead(302, { location: "/www/" });
      return response.end();
    }
    const wanted = path.endsWith("/") ? `${path}index.html` : path;
    const file = normalize(join(root, wanted));
    const allowed = served.some((folder) => file.startsWith(join(root, folder) + "/")) && !file.includes("node_modules");
    try {
      if (request.method !== "GET" || !allowed) throw Object.assign(new Error("not served"), { code: "ENOENT" });
      const body = await readFile(file);
      response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      response.end(body);
    } catch (error) {
      response.writeHead(error.code === "ENOENT" || error.code === "EISDIR" ? 404 : 500, { "content-type": "text/plain" });
      response.end(`${path}: ${error.code === "ENOENT" ? "not found" : error.message}\n`);
    }
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`tributary demo: http://127.0.0.1:${server.address().port}/`);
}
