// The release wasm's size as users download it (gzip -9), next to the budget
// committed in scripts/size-budget.json. With --check it fails when the wasm
// grew past the budget by more than 2%: raising the budget is a change of its
// own, made in review, not a side effect of a feature.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const wasm = readFileSync(new URL("../pkg-config/wasm/tributary_bg.wasm", import.meta.url));
const gzipped = gzipSync(wasm, { level: 9 }).length;
const { wasmGzipBytes: budget } = JSON.parse(readFileSync(new URL("./size-budget.json", import.meta.url), "utf8"));
const limit = Math.floor(budget * 1.02);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
console.log(`[size] release wasm: ${kb(wasm.length)}, ${kb(gzipped)} gzipped; budget ${kb(budget)} gzipped (fails past ${kb(limit)})`);
if (process.argv.includes("--check") && gzipped > limit) {
  console.error(`[size] the wasm grew past its budget by ${((gzipped / budget - 1) * 100).toFixed(1)}%: make it smaller, or raise scripts/size-budget.json in a change of its own`);
  process.exit(1);
}
