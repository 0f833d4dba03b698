// Serves the demo dashboard (www/, with the package installed in its
// node_modules) on 127.0.0.1, and any extra folders the page tests mount.
// Usage: node scripts/serve.mjs [port]   (port 0 picks a free one; the URL is printed)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const www = resolve(fileURLToPath(import.meta.url), "../../www");
const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml",
  ".map": "application/json", ".ts": "text/plain; charset=utf-8", ".webmanifest": "application/manifest+json",
};

/** Serves www/ at "/", and each `mounts` entry ("/test/": folder) at its prefix. */
export function serve(port = 8080, mounts = {}) {
  const roots = [...Object.entries(mounts).map(([prefix, folder]) => [prefix, resolve(folder)]), ["/", www]];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const [prefix, root] = roots.find(([prefix]) => path.startsWith(prefix));
    const relative = path.slice(prefix.length);
    const file = normalize(join(root, relative.endsWith("/") || relative === "" ? `${relative}index.html` : relative));
    try {
      if (!["GET", "HEAD"].includes(request.method) || !file.startsWith(root + sep)) throw Object.assign(new Error("not served"), { code: "ENOENT" });
      const body = await readFile(file);
      response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "content-length": body.length, "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch (error) {
      const missing = error.code === "ENOENT" || error.code === "EISDIR";
      response.writeHead(missing ? 404 : 500, { "content-type": "text/plain" });
      response.end(`${path}: ${missing ? "not found" : error.message}\n`);
    }
  });
  return new Promise((done) => server.listen(port, "127.0.0.1", () => done(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`tributary demo: http://127.0.0.1:${server.address().port}/`);
}
