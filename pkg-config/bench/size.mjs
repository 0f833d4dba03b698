// The size of the release wasm as shipped, gzipped, next to its committed budget
// (scripts/size-budget.json, which the test command holds it to).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

export function size() {
  const wasm = readFileSync(new URL("../wasm/tributary_bg.wasm", import.meta.url));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  const { wasmGzipBytes: budget } = JSON.parse(readFileSync(new URL("../../scripts/size-budget.json", import.meta.url), "utf8"));
  console.log(`release wasm: ${(wasm.length / 1024).toFixed(0)} KB, ${(gzipped / 1024).toFixed(0)} KB gzipped (budget ${(budget / 1024).toFixed(0)} KB gzipped)`);
}
