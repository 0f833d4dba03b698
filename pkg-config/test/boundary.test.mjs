// The boundary under load and in trouble, through the published package in
// headless Chromium: appends that race, a panic, an aggregate too big to cross
// in one piece.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("300 records without an expected version at once in one tab all succeed, in call order", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const settled = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => app.record("Dog", id, "TrickAdded", { trick: `t${i}` })));
    const dog = await app.get("Dog", id);
    return {
      failures: settled.filter((s) => s.status === "rejected").map((s) => s.reason.name),
      versions: settled.map((s) => s.value?.version),
      tricks: dog.state.tricks,
    };
  });
  assert.deepEqual(out.failures, []);
  assert.deepEqual(out.versions, Array.from({ length: 300 }, (_, i) => i + 2), "versions follow the order of the calls");
  assert.deepEqual(out.tricks, Array.from({ length: 300 }, (_, i) => `t${i}`));
  await close();
});

test("200 records without an expected version from two tabs at once all succeed, none doubled", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const id = await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    return (await app.create("Dog", "Registered", { name: "Fido" })).id;
  });
  await two.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
  });
  const burst = (page, tab) => page.evaluate(async ([id, tab]) => {
    const settled = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => app.record("Dog", id, "TrickAdded", { trick: `${tab}${i}` })));
    return settled.filter((s) => s.status === "rejected").map((s) => `${s.reason.name}: ${s.reason.message}`);
  }, [id, tab]);
  const failures = await Promise.all([burst(one, "a"), burst(two, "b")]);
  assert.deepEqual(failures, [[], []]);
  const dog = await one.evaluate(async (id) => app.get("Dog", id), id);
  assert.equal(dog.version, 201);
  assert.equal(new Set(dog.state.tricks).size, 200, "nothing doubled");
  const order = (tab) => dog.state.tricks.filter((t) => t.startsWith(tab)).map((t) => Number(t.slice(1)));
  assert.deepEqual(order("a"), Array.from({ length: 100 }, (_, i) => i), "each tab's records in its call order");
  assert.deepEqual(order("b"), Array.from({ length: 100 }, (_, i) => i));
  await close();
});

test("a panic reaches the page as an InternalError, and applications open again afterwards", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const { __panicForTests } = await import("/node_modules/tributary/wasm/tributary.js");
    const { InternalError } = await import("tributary");
    const calling = (await import("/node_modules/tributary/dist/core.js")).callingSync;
    let panic;
    try {
      calling(() => __panicForTests());
    } catch (error) {
      panic = { name: error.name, message: error.message, internal: error instanceof InternalError };
    }
    const stale = await caught(() => app.get("Dog", id));
    const again = await openDogSchool("dogschool");
    return { panic, stale, dog: (await again.get("Dog", id)).state.name };
  });
  assert.deepEqual([out.panic.name, out.panic.internal], ["InternalError", true]);
  assert.match(out.panic.message, /a panic the page tests asked for/);
  assert.equal(out.stale.name, "StorageError", "handles of the old instance refuse to work");
  assert.match(out.stale.message, /open it again/);
  assert.equal(out.dog, "Fido", "a fresh instance reads the same database");
  await close();
});

test("an aggregate of 600 MB, more than a JavaScript string holds, is replayed and its history read, a bounded batch at a time", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openApplication } = await import("tributary");
    const app = (await openApplication("big")).defineAggregate("Blob", {
      initial: () => ({ parts: 0, bytes: 0 }),
      apply: {
        Created: (s) => s,
        Grew: (s, e) => ({ parts: s.parts + 1, bytes: s.bytes + e.chunk.length }),
      },
    });
    const { id } = await app.create("Blob", "Created", {});
    const chunk = "x".repeat(1 << 20);
    for (let batch = 0; batch < 60; batch++) {
      await app.recordMany(Array.from({ length: 10 }, (_, i) => ({ aggregate: "Blob", id, event: "Grew", data: { chunk: `${batch}-${i}${chunk}` } })));
    }
    const blob = await app.get("Blob", id);
    const history = await app.history(id);
    return { state: blob.state, version: blob.version, events: history.length, last: history.at(-1).data.chunk.slice(0, 5) };
  });
  assert.equal(out.version, 601);
  assert.equal(out.state.parts, 600);
  assert.ok(out.state.bytes > 600 * (1 << 20), `${out.state.bytes} bytes folded`);
  assert.equal(out.events, 601);
  assert.equal(out.last, "59-9x");
  await close();
});
