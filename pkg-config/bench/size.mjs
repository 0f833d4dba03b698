// The size of the release wasm as shipped, gzipped, next to its limit.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

export function size() {
  const wasm = readFileSync(new URL("../wasm/tributary_bg.wasm", import.meta.url));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  console.log(`release wasm: ${(wasm.length / 1024).toFixed(0)} KB, ${(gzipped / 1024).toFixed(0)} KB gzipped (limit 250 KB gzipped)`);
}
