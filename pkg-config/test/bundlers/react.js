// The app for the React hooks' page tests (test/react.test.mjs), bundled with
// esbuild and React 19's development build (StrictMode runs effects twice only
// there). `globalThis.harness` opens the dog school, mounts components using
// the hooks, and keeps every value each rendered, and how many subscriptions
// the hooks hold on the view, the application and the sync.
import wasm from "tributary/wasm";
import { init, openApplication } from "tributary";
import { useAggregate, useSyncStatus, useView } from "tributary/react";
import { StrictMode, createElement as h } from "react";
import { createRoot } from "react-dom/client";

await init({ wasm: new URL(wasm, import.meta.url) });

const counting = (handler) => ({
  topics: ["Dog.TrickAdded"],
  handle: async (event, view) => {
    const row = await view.get(event.data.trick);
    view.put(event.data.trick, handler(row));
  },
});

/** Counts the subscriptions `target.subscribe` hands out and has not had back. */
function counted(target) {
  const subscribe = target.subscribe.bind(target);
  target.subscribe = (...args) => {
    harness.subscribed++;
    const unsubscribe = subscribe(...args);
    return () => {
      harness.subscribed--;
      unsubscribe();
    };
  };
  return target;
}

const hooks = {
  row: ({ k }) => useView(harness.tricks, { key: k }),
  rows: () => useView(harness.tricks, { query: {} }),
  dog: ({ id }) => useAggregate(harness.app, "Dog", id),
  status: () => useSyncStatus(harness.sync),
};

function Probe({ hook, renders, ...props }) {
  const state = hooks[hook](props);
  renders.push({ loading: state.loading, value: state.value ?? null, error: state.error?.name ?? null });
  return h("output", null, JSON.stringify(state.value ?? null));
}

const mounted = new Map();

globalThis.harness = {
  subscribed: 0,
  async open({ url, token } = {}) {
    const app = await openApplication("dogschool");
    this.app = counted(app.defineAggregate("Dog", {
      initial: () => ({ name: "", tricks: [] }),
      apply: {
        Registered: (state, e) => ({ ...state, name: e.name }),
        TrickAdded: (state, e) => ({ ...state, tricks: [...state.tricks, e.trick] }),
      },
    }));
    this.tricks = counted(this.app.defineView("tricks", counting((row) => ({ count: (row?.count ?? 0) + 1 }))));
    if (url) this.sync = counted(this.app.sync({ url, token }));
  },
  /** Mounts a probe of `hook` in StrictMode; its id. */
  mount(hook, props = {}) {
    const element = document.body.appendChild(document.createElement("div"));
    const root = createRoot(element);
    const renders = [];
    root.render(h(StrictMode, null, h(Probe, { hook, renders, ...props })));
    const id = mounted.size + 1;
    mounted.set(id, { root, renders, element });
    return id;
  },
  renders(id) {
    return mounted.get(id).renders;
  },
  /** The last render's state. */
  last(id) {
    return mounted.get(id).renders.at(-1);
  },
  unmount(id) {
    mounted.get(id).root.unmount();
  },
  /** Another definition of the view (each trick counts 10), rebuilt. */
  async recount() {
    this.app.defineView("tricks", counting((row) => ({ count: (row?.count ?? 0) + 10 })));
    await this.tricks.rebuild();
  },
};
document.getElementById("out").textContent = "ready";
