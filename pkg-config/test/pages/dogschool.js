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
