// Every benchmark, in one run of headless Chromium: figures next to their
// limits, asserting nothing. Run with `bash scripts/bench.sh`.
// BENCH=size,record,replay,catch-up,sync picks some; BENCH_SIZES sets the catch-up sizes.
import { openBench } from "./browser.mjs";
import { record } from "./record.mjs";
import { replay } from "./replay.mjs";
import { catchUp } from "./catch-up.mjs";
import { size } from "./size.mjs";
import { sync } from "./sync.mjs";

const wanted = new Set((process.env.BENCH ?? "size,record,replay,catch-up,sync").split(","));
const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
if (wanted.has("size")) size();
const { page, close } = await openBench();
try {
  if (wanted.has("record")) await record(page);
  if (wanted.has("replay")) await replay(page);
  if (wanted.has("catch-up")) await catchUp(page, sizes);
} finally {
  await close();
}
if (wanted.has("sync")) await sync();
