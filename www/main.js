// The dashboard: BIOMERO workflow runs (and a dog school, a tutorial) kept by tributary in IndexedDB. Everything
// on the page is read back from the event log, so a reload shows the same.
import { openApplication } from "tributary";
import { workflows } from "./workflows.js";
import { syncPanel } from "./sync.js";
import { biomeroPanel } from "./biomero.js";
import { csv } from "./csv.js";

// Offline: a service worker keeps the page's files (scripts/offline.mjs writes it at build).
navigator.serviceWorker?.register("./sw.js").catch((error) => console.warn("tributary demo: no offline copy:", error.message));

const $ = (id) => document.getElementById(id);
const short = (id) => id.slice(0, 8);
let selected = null;

const app = (await openApplication("dogschool")).defineWorkflows().defineAggregate("Dog", {
  initial: () => ({ name: "", tricks: [] }),
  apply: {
    Registered: (state, e) => ({ ...state, name: e.name }),
    TrickAdded: (state, e) => ({ ...state, tricks: [...state.tricks, e.trick] }),
  },
});

/** Runs an action, then shows the result and reports its outcome (or its typed error). */
async function act(action, done) {
  try {
    await action();
    await render();
    say(done);
  } catch (error) {
    await render().catch(() => {});
    say(`${error.name}: ${error.message}`, true);
  }
}

function say(text, failed = false) {
  $("status").textContent = text;
  $("status").className = failed ? "error" : "";
}

function item(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  element.textContent = text;
  Object.assign(element, attributes);
  return element;
}

async function render() {
  const log = await app.notifications({ limit: 10_000 });
  const dogs = log.filter((n) => n.topic === "Dog.Registered");
  // (the log also holds the workflows' events: the river has many tributaries)
  $("dogs").replaceChildren(...dogs.map((n) => {
    // A button: reachable and pressed from the keyboard too.
    const pick = item("button", `${n.data.name} (${short(n.originatorId)})`, { type: "button", className: "link" });
    pick.onclick = () => { selected = n.originatorId; render(); };
    const li = item("li", "", { className: n.originatorId === selected ? "selected" : "" });
    li.dataset.id = n.originatorId;
    li.append(pick);
    return li;
  }));
  $("log").replaceChildren(...log.slice(-20).reverse().map((n) => {
    const row = document.createElement("tr");
    row.append(item("td", n.notificationId), item("td", n.topic), item("td", short(n.originatorId)), item("td", n.originatorVersion), item("td", JSON.stringify(n.data)));
    return row;
  }));
  const last = log.at(-1)?.notificationId ?? 0;
  const first = Math.max(1, Math.floor((last - 1) / 10) * 10 + 1);
  $("section").textContent = await app.notificationLog.sectionJson(`${first},${first + 9}`);
  await renderDog();
}

async function renderDog(version) {
  $("teach").hidden = $("travel").hidden = !selected;
  if (!selected) return;
  const latest = await app.get("Dog", selected);
  const slider = $("version-slider");
  slider.max = latest.version;
  if (version === undefined) slider.value = latest.version;
  const shown = Number(slider.value) === latest.version ? latest : await app.get("Dog", selected, { version: Number(slider.value) });
  $("dog-name").textContent = latest.state.name;
  $("dog-version").textContent = `version ${latest.version}`;
  $("at-version").textContent = shown.version;
  $("state").textContent = JSON.stringify(shown.state, null, 2);
  const history = await app.history(selected);
  $("history").replaceChildren(...history.map((e) => item("li", `v${e.originatorVersion} ${e.type} ${JSON.stringify(e.data)} · ${e.timestamp.toLocaleTimeString()}`)));
}

$("register").onsubmit = (event) => {
  event.preventDefault();
  const name = event.target.name.value.trim();
  act(async () => {
    selected = (await app.create("Dog", "Registered", { name })).id;
    event.target.reset();
  }, `Registered ${name}: one event, saved to IndexedDB.`);
};

$("teach").onsubmit = (event) => {
  event.preventDefault();
  const trick = event.target.trick.value.trim();
  act(async () => {
    const { version } = await app.get("Dog", selected);
    // expectedVersion: if another tab taught this dog meanwhile, this is a ConflictError.
    await app.record("Dog", selected, "TrickAdded", { trick }, { expectedVersion: version });
    event.target.reset();
  }, `Taught ${trick}.`);
};

$("snapshot").onclick = () => act(async () => {
  const { version } = await app.takeSnapshot("Dog", selected);
  say(`Snapshot at version ${version}: replays start there now.`);
});

$("version-slider").oninput = () => renderDog(Number($("version-slider").value));
window.addEventListener("focus", () => render()); // pick up what other tabs recorded

const renderWorkflows = workflows(app, act);
/** For scripts and tests: a view's CSV, as the export downloads it. */
globalThis.dashboard = { csv: (name) => csv(app.view(name)) };
syncPanel(app, act, render);
biomeroPanel();
await Promise.all([render(), renderWorkflows()]);
say("Ready. Start a workflow, or follow a BIOMERO server; reload: it is all still here.");
