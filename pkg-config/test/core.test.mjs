// The facade's calls into the core, without a browser: what a settled call
// returned is not kept (a page calls the core for every save, read and step).
import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { calling } from "../dist/core.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

test("what a settled core call returned is not kept", async () => {
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  for (let i = 0; i < 100; i++) {
    const result = { rows: new Array(1000).fill(i) };
    registry.register(result, i);
    await calling(async () => result);
  }
  for (let round = 0; round < 10 && collected < 100; round++) {
    gc();
    await new Promise((done) => setTimeout(done, 10));
  }
  assert.ok(collected >= 95, `${collected} of 100 results collected`);
});
