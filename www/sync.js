// The sync part of the dashboard: connects to a tributary server (the URL and
// token `scripts/run.sh` wrote to sync.json, or typed in), keeps in sync, and
// shows the status, what is pending, the progress, and conflicts to resolve.

const $ = (id) => document.getElementById(id);

export async function syncPanel(app, act, render) {
  const form = $("connect");
  const saved = JSON.parse(localStorage.getItem("tributary-demo-sync") ?? "null")
    ?? await fetch("./sync.json", { cache: "no-store" }).then((r) => (r.ok ? r.json() : null), () => null);
  if (saved) {
    form.url.value = saved.url;
    form.token.value = saved.token;
  }
  let sync = null;

  const renderConflicts = async () => {
    const conflicts = await sync.conflicts();
    $("conflicts").hidden = conflicts.length === 0;
    $("conflict-list").replaceChildren(...conflicts.map((conflict) => {
      const li = document.createElement("li");
      const mine = conflict.local.map((e) => `${e.type} ${JSON.stringify(e.data)}`).join(", ");
      const theirs = conflict.server.map((e) => `${e.type} ${JSON.stringify(e.data)}`).join(", ");
      li.textContent = `${conflict.aggregateId.slice(0, 8)} v${conflict.version}: here ${mine} · server ${theirs} `;
      for (const how of ["rebase", "discard"]) {
        const button = document.createElement("button");
        button.textContent = how === "rebase" ? "Rebase mine after theirs" : "Discard mine";
        button.onclick = () => act(async () => { await sync.resolve(conflict.id, how); await renderConflicts(); }, `Conflict ${how === "rebase" ? "rebased" : "discarded"}.`);
        li.append(button);
      }
      return li;
    }));
  };

  const connect = (url, token) => {
    sync?.stop();
    sync = app.sync({ url, token });
    localStorage.setItem("tributary-demo-sync", JSON.stringify({ url, token }));
    $("sync-now").disabled = false;
    let progress = "";
    sync.subscribe(async (change) => {
      if (change.type === "progress") progress = ` · moved ${change.pushed + change.pulled} of ${change.total}`;
      const { state, pending, position, lastError } = sync.status();
      if (change.type === "status" && state === "idle") localStorage.setItem("tributary-demo-synced", new Date().toISOString());
      const synced = localStorage.getItem("tributary-demo-synced");
      const last = synced ? ` · last synced ${new Date(synced).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" })}` : "";
      $("sync-status").textContent = `${state} · ${pending} pending · server position ${position}${progress}${last}${lastError ? ` · ${lastError.name}: ${lastError.message}` : ""}`;
      $("sync-status").className = state === "failed" ? "error" : state;
      if (change.type === "status" && state === "idle") {
        progress = "";
        await render();
        await renderConflicts();
      }
    });
    sync.start();
  };

  form.onsubmit = (event) => {
    event.preventDefault();
    act(async () => connect(form.url.value.trim(), form.token.value.trim()), "Connected: keeping in sync.");
  };
  $("sync-now").onclick = () => act(() => sync.now(), "Synced.");
  if (saved) connect(saved.url, saved.token);
}
