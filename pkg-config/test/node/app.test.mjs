// The package in Node, as a user's unit tests use it: applications kept in
// memory, with aggregates, views, followers and workflows; no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConflictError, openApplication, StorageError, ValidationError } from "tributary";

const dogSchool = async (name = "dogschool") => (await openApplication(name, { storage: "memory" })).defineAggregate("Dog", {
  initial: () => ({ name: "", tricks: [] }),
  apply: {
    Registered: (dog, { name }) => ({ ...dog, name }),
    TrickAdded: (dog, { trick }) => ({ ...dog, tricks: [...dog.tricks, trick] }),
  },
});

test("an aggregate in memory: create, record, get, history, a typed conflict", async () => {
  const app = await dogSchool();
  const { id } = await app.create("Dog", "Registered", { name: "Fido" });
  assert.deepEqual(await app.record("Dog", id, "TrickAdded", { trick: "sit" }, { expectedVersion: 1 }), { version: 2, notificationId: 2 });
  const dog = await app.get("Dog", id);
  assert.deepEqual([dog.version, dog.state], [2, { name: "Fido", tricks: ["sit"] }]);
  assert.deepEqual((await app.history(id)).map((e) => e.type), ["Registered", "TrickAdded"]);
  await assert.rejects(app.record("Dog", id, "TrickAdded", { trick: "beg" }, { expectedVersion: 1 }), ConflictError);
  await assert.rejects(app.record("Dog", "not an id", "TrickAdded", { trick: "beg" }), ValidationError);
  app.close();
});

test("a view follows the log, and a rebuild gives the same rows", async () => {
  const app = await dogSchool();
  const counts = app.defineView("trickCounts", {
    topics: ["Dog.TrickAdded"],
    handle: async (event, view) => view.put(event.data.trick, { count: ((await view.get(event.data.trick))?.count ?? 0) + 1 }),
  });
  const { id } = await app.create("Dog", "Registered", { name: "Fido" });
  let last;
  for (const trick of ["sit", "sit", "beg"]) last = await app.record("Dog", id, "TrickAdded", { trick });
  await counts.wait(last.notificationId, { timeoutMs: 5000 });
  const rows = await counts.all();
  assert.deepEqual(rows, [{ key: "beg", value: { count: 1 } }, { key: "sit", value: { count: 2 } }]);
  await counts.rebuild();
  assert.deepEqual(await counts.all(), rows);
  app.close();
});

test("a follower records its policy's events once per leader event", async () => {
  const dogs = await dogSchool();
  const counters = (await openApplication("counters", { storage: "memory" })).defineAggregate("Counter", {
    initial: () => ({ count: 0 }),
    apply: { Incremented: (counter) => ({ count: counter.count + 1 }) },
  });
  const follower = counters.follow(dogs, {
    topics: ["Dog.TrickAdded"],
    policy: async (event, app) => [{ aggregate: "Counter", id: app.idFor("Counter", event.data.trick), event: "Incremented", data: {} }],
  });
  const { id } = await dogs.create("Dog", "Registered", { name: "Fido" });
  let last;
  for (const trick of ["sit", "sit", "beg"]) last = await dogs.record("Dog", id, "TrickAdded", { trick });
  await follower.wait(last.notificationId);
  assert.equal((await counters.get("Counter", counters.idFor("Counter", "sit"))).state.count, 2);
  assert.equal((await counters.get("Counter", counters.idFor("Counter", "beg"))).state.count, 1);
  counters.close();
  dogs.close();
});

test("BIOMERO's workflows and their views run in Node", async () => {
  const app = (await openApplication("biomero", { storage: "memory" })).defineWorkflows();
  const run = await app.create("WorkflowRun", "WorkflowInitiated", { name: "cellpose", description: null, user: 1, group: 2 });
  await app.record("WorkflowRun", run.id, "WorkflowStarted", {});
  const done = await app.record("WorkflowRun", run.id, "WorkflowCompleted", {});
  const progress = app.view("workflowProgress");
  await progress.wait(done.notificationId, { timeoutMs: 5000 });
  const row = await progress.get(run.id);
  assert.deepEqual([row?.status, row?.progress], ["DONE", "100%"]);
  assert.equal(row?.user, 1);
  app.close();
});

test("storage: \"indexeddb\" in Node is a StorageError that says to use memory", async () => {
  for (const options of [undefined, { storage: "indexeddb" }]) {
    const error = await openApplication("dogschool", options).then(() => null, (error) => error);
    assert.ok(error instanceof StorageError, String(error));
    assert.match(error.message, /Node has no IndexedDB; open the application with storage: "memory"/);
  }
});
