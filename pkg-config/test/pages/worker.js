// The dog school in a worker (a dedicated one, or a SharedWorker that every page
// connects to): it answers the page's requests, { n, request, ...arguments },
// with { n, value } or { n, error }. Workers take no import map: the package is
// imported by its path.
import { openApplication } from "/node_modules/tributary/dist/index.js";

let app, counts, sync;
const heard = [];

const requests = {
  async open() {
    app = (await openApplication("dogschool")).defineAggregate("Dog", {
      initial: () => ({ name: "", tricks: [] }),
      apply: {
        Registered: (dog, { name }) => ({ ...dog, name }),
        TrickAdded: (dog, { trick }) => ({ ...dog, tricks: [...dog.tricks, trick] }),
      },
    });
    counts = app.defineView("trickCounts", {
      topics: ["Dog.TrickAdded"],
      indexes: ["count"],
      handle: async (event, view) => view.put(event.data.trick, { count: ((await view.get(event.data.trick))?.count ?? 0) + 1 }),
    });
    counts.subscribe((change) => heard.push(...change.keys));
    return { locks: typeof navigator.locks?.request === "function", scope: globalThis.constructor.name };
  },
  create: ({ name }) => app.create("Dog", "Registered", { name }),
  teach: ({ id, trick }) => app.record("Dog", id, "TrickAdded", { trick }),
  dog: ({ id }) => app.get("Dog", id).then((dog) => dog.state),
  count: async ({ trick, after }) => {
    await counts.wait(after, { timeoutMs: 10_000 });
    return (await counts.get(trick))?.count ?? 0;
  },
  heard: () => heard,
  sync: ({ url, token }) => {
    sync = app.sync({ url, token });
    sync.start();
    return null;
  },
  syncStatus: () => sync.status(),
};

async function answer(port, { n, request, ...args }) {
  try {
    port.postMessage({ n, value: await requests[request](args) });
  } catch (error) {
    port.postMessage({ n, error: `${error.name}: ${error.message}` });
  }
}

if ("onconnect" in globalThis) {
  globalThis.onconnect = ({ ports: [port] }) => (port.onmessage = ({ data }) => answer(port, data));
} else {
  globalThis.onmessage = ({ data }) => answer(globalThis, data);
}
