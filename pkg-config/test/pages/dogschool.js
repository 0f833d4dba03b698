// The dog school the page tests share. `globalThis.applied` counts apply calls,
// so a test can see how much a replay had to fold.
import { openApplication } from "tributary";

globalThis.applied = 0;

export async function openDogSchool(name, options = {}) {
  const app = await openApplication(name, options);
  return app.defineAggregate("Dog", {
    initial: () => ({ name: "", tricks: [] }),
    apply: {
      Registered: (state, e) => (globalThis.applied++, { ...state, name: e.name }),
      TrickAdded: (state, e) => (globalThis.applied++, { ...state, tricks: [...state.tricks, e.trick] }),
    },
  });
}

/** What a call threw: its name, message and which error classes it is. */
export async function caught(call) {
  const tributary = await import("tributary");
  try {
    await call();
    return null;
  } catch (error) {
    const kinds = ["TributaryError", "ValidationError", "ConflictError", "NotFoundError", "StorageError", "HandlerError", "UnknownTopicError"];
    return { name: error.name, message: error.message, is: kinds.filter((kind) => error instanceof tributary[kind]) };
  }
}

/** The trick-count view; `globalThis.handled` counts handler calls in this tab. */
export function defineTrickCounts(app, { failOn } = {}) {
  globalThis.handled ??= 0;
  return app.defineView("trickCounts", {
    topics: ["Dog.TrickAdded"],
    indexes: ["count"],
    handle: async (event, view) => {
      globalThis.handled++;
      if (event.data.trick === failOn) throw new Error(`cannot count ${failOn}`);
      const row = await view.get(event.data.trick);
      view.put(event.data.trick, { count: (row?.count ?? 0) + 1 });
    },
  });
}

/** Registers a dog and teaches it `count` tricks named from `names`, in batches of 1000. */
export async function teach(app, count, names) {
  const { id } = await app.create("Dog", "Registered", { name: "Fido" });
  for (let start = 0; start < count; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) batch.push({ aggregate: "Dog", id, event: "TrickAdded", data: { trick: names[i % names.length] } });
    await app.recordMany(batch);
  }
  return app.maxNotificationId();
}

/** The tutorial's trick counters, following the dog school: one counter per trick name. */
export async function openCounters(dogschool, name = "counters") {
  const counters = (await openApplication(name)).defineAggregate("Counter", {
    initial: () => ({ name: "", count: 0 }),
    apply: {
      Started: (state, e) => ({ ...state, name: e.name }),
      Incremented: (state) => ({ ...state, count: state.count + 1 }),
    },
  });
  globalThis.policyCalls ??= 0;
  const follower = counters.follow(dogschool, {
    topics: ["Dog.TrickAdded"],
    policy: async (event, app) => {
      globalThis.policyCalls++;
      const id = app.idFor("Counter", event.data.trick);
      const known = await app.get("Counter", id).then(() => true, () => false);
      const increment = { aggregate: "Counter", id, event: "Incremented", data: {} };
      return known ? [increment] : [{ aggregate: "Counter", id, event: "Started", data: { name: event.data.trick }, expectedVersion: 0 }, increment];
    },
  });
  return { counters, follower };
}
