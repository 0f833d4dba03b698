// Interop with the real Python side, through the published package in headless
// Chromium: state compressed and encrypted as the Python library does it, and
// read by the Python library from the server's SQLite file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tabs } from "./browser.mjs";
import { PYTHON, PEERS } from "./peers.mjs";
import { startServer, TOKEN } from "./server.mjs";

const CODEC = (key) => ({ COMPRESSOR_TOPIC: "eventsourcing.compressor:ZlibCompressor", CIPHER_TOPIC: "eventsourcing.cryptography:AESCipher", CIPHER_KEY: key });

/** Every byte array and string in an IndexedDB database (and the origin's localStorage), as text, to look for clear text at rest. */
async function bytesAtRest(page, database) {
  return page.evaluate(async (database) => {
    const db = await new Promise((done, fail) => { const r = indexedDB.open(database); r.onsuccess = () => done(r.result); r.onerror = () => fail(r.error); });
    const texts = [];
    const walk = (value) => {
      if (value instanceof Uint8Array) texts.push(new TextDecoder().decode(value));
      else if (typeof value === "string") texts.push(value);
      else if (value && typeof value === "object") Object.values(value).forEach(walk);
    };
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((done) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => done(r.result); });
      rows.forEach(walk);
    }
    db.close();
    for (let i = 0; i < localStorage.length; i++) texts.push(localStorage.key(i), localStorage.getItem(localStorage.key(i)));
    return texts;
  }, database);
}

test("dogs recorded in a browser with zlib and AES, pushed to the server, are read by the Python library from the server's file", async () => {
  const server = await startServer();
  const key = randomBytes(32).toString("base64");
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([url, token, key]) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool", { topics: { Dog: "dogschool:Dog" }, compress: true, cipherKey: key });
    const dogs = [];
    for (const [name, tricks] of [["Fido 🐕 é", ["roll over", "play dead"]], ["Rex", []], ["Bella \u2028 \"quoted\"", ["sit"]]]) {
      const { id } = await app.create("Dog", "Registered", { name });
      for (const trick of tricks) await app.record("Dog", id, "TrickAdded", { trick });
      dogs.push(id);
    }
    await app.takeSnapshot("Dog", dogs[0]);
    const sync = app.sync({ url, token });
    const round = await sync.now();
    const states = {};
    for (const id of dogs) {
      const dog = await app.get("Dog", id);
      states[id] = { name: dog.state.name, tricks: dog.state.tricks, version: dog.version };
    }
    return { round, states, topic: (await app.notificationLog.section("1,1")).items[0].topic };
  }, [server.app("dogschool"), TOKEN, key]);
  assert.equal(out.topic, "dogschool:Dog.Registered");
  assert.equal(out.round.pushed, 6);
  const atRest = await bytesAtRest(page, "tributary:dogschool");
  assert.ok(atRest.length >= 6 && atRest.every((text) => !text.includes("Rex") && !text.includes("roll over")), "state is encrypted in IndexedDB");
  assert.ok(atRest.every((text) => !text.includes(key)), "the key is not stored");
  await close();

  const file = join(server.data, "acme", "dogschool.sqlite");
  const python = JSON.parse(execFileSync(PYTHON, [join(PEERS, "read_dogs.py"), file, ...Object.keys(out.states)], {
    env: { ...process.env, ...CODEC(key) }, encoding: "utf8",
  }));
  assert.deepEqual(python, out.states, "Python reads the same dogs");
  // Without the key, the library cannot read them: they are encrypted on the server too.
  assert.throws(() => execFileSync(PYTHON, [join(PEERS, "read_dogs.py"), file, Object.keys(out.states)[0]], { env: { ...process.env }, stdio: "pipe" }));
  await server.stop();
});

test("fields declared uuidFields reach the Python library as UUIDs, and read back as UUID strings", async () => {
  const server = await startServer();
  const { pages: [page], close } = await tabs();
  const owner = "0b6f3c1e-2a4d-4c8e-9f10-3d2b1a0c9e8f";
  const out = await page.evaluate(async ([url, token, owner]) => {
    const { openApplication } = await import("tributary");
    const app = (await openApplication("shelter")).defineAggregate("Pet", {
      initial: () => ({ owner: null, friends: [] }),
      apply: {
        Adopted: (state, e) => ({ ...state, owner: e.owner, note: e.note }),
        Befriended: (state, e) => ({ ...state, friends: [...state.friends, e.friend] }),
      },
      uuidFields: { Adopted: ["owner", "note"] },
    });
    // "note" is no UUID: it stays a string; "friend" is not declared: a string too.
    const { id } = await app.create("Pet", "Adopted", { owner, note: "not a uuid" });
    await app.record("Pet", id, "Befriended", { friend: owner });
    const refused = [];
    for (const uuidFields of [{ Fed: ["x"] }, { Adopted: "owner" }, { Adopted: [1] }, []]) {
      try {
        (await openApplication("shelter-" + refused.length)).defineAggregate("Pet", { initial: () => ({}), apply: { Adopted: (s) => s }, uuidFields });
        refused.push(null);
      } catch (error) {
        refused.push(error.name);
      }
    }
    const round = await app.sync({ url, token }).now();
    return { round, state: (await app.get("Pet", id)).state, refused };
  }, [server.app("shelter"), TOKEN, owner]);
  await close();
  assert.deepEqual(out.round, { pushed: 2, pulled: 0 });
  assert.deepEqual(out.state, { owner, note: "not a uuid", friends: [owner] }, "read back as they were given");
  assert.deepEqual(out.refused, ["ValidationError", "ValidationError", "ValidationError", "ValidationError"]);
  const python = JSON.parse(execFileSync(PYTHON, [join(PEERS, "read_types.py"), join(server.data, "acme", "shelter.sqlite")], { encoding: "utf8" }));
  assert.deepEqual(python.map((e) => [e.topic, e.fields.owner ?? e.fields.friend, e.fields.note ?? null]), [
    ["Pet.Adopted", "UUID", "str"],
    ["Pet.Befriended", "str", null],
  ]);
  await server.stop();
});

test("a wrong or missing cipher key is a CipherError, and nothing is written", async () => {
  const server = await startServer();
  const [right, wrong] = [randomBytes(32).toString("base64"), randomBytes(16).toString("base64")];
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([url, token, right, wrong]) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const { openApplication } = await import("tributary");
    const app = await openDogSchool("dogschool", { cipherKey: right, compress: true });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await app.sync({ url, token }).now();
    app.close();
    const failures = [];
    const attempt = async (label, call) => {
      try { await call(); failures.push([label, null]); } catch (error) { failures.push([label, error.name, error instanceof (await import("tributary")).CipherError]); }
    };
    await attempt("wrong key", () => openApplication("dogschool", { cipherKey: wrong, compress: true }));
    await attempt("no key", () => openApplication("dogschool", { compress: true }));
    await attempt("nothing", () => openApplication("dogschool"));
    for (const key of ["", "not base64!", btoa("twenty bytes is bad!")]) await attempt(`key ${JSON.stringify(key)}`, () => openApplication("other", { cipherKey: key }));
    // a second device following the server with a wrong key: the pull is refused, nothing is written
    const other = await openDogSchool("device2", { cipherKey: wrong, compress: true });
    await attempt("pull with a wrong key", () => other.sync({ url, token }).now());
    const again = await openDogSchool("dogschool", { cipherKey: right, compress: true });
    return { failures, written: await other.maxNotificationId(), fido: (await again.get("Dog", id)).state.name, log: await again.maxNotificationId() };
  }, [server.app("dogschool"), TOKEN, right, wrong]);
  for (const [label, name, typed] of out.failures) {
    assert.ok(name === "CipherError" && typed, `${label}: ${name}`);
  }
  assert.equal(out.failures.length, 7);
  assert.equal(out.written, 0, "nothing pulled was written");
  assert.deepEqual([out.fido, out.log], ["Fido", 1], "the right key still reads, and nothing was added");
  await close();
  await server.stop();
});
