// Following a BIOMERO server: a second application ("biomero") with the
// workflow domain, pulling the Python server's log (compressed and encrypted
// as BIOMERO stores it) into BIOMERO's four views, live.
import { openApplication } from "tributary";

const $ = (id) => document.getElementById(id);

export async function biomeroPanel() {
  const form = $("follow-biomero");
  const saved = JSON.parse(localStorage.getItem("tributary-demo-biomero") ?? "null")
    ?? await fetch("./biomero.json", { cache: "no-store" }).then((r) => (r.ok ? r.json() : null), () => null);
  if (saved) {
    form.url.value = saved.url;
    form.key.value = saved.cipherKey ?? "";
  }
  let following = null;

  const render = async () => {
    const rows = await following.app.view("workflowProgress").all();
    $("biomero-workflows").replaceChildren(...rows.map(({ value: w }) => {
      const row = document.createElement("tr");
      for (const text of [w.name, w.user, w.status, w.progress, w.mainTaskName, new Date(w.startTime).toLocaleString()]) {
        const td = document.createElement("td");
        td.textContent = text ?? "";
        row.append(td);
      }
      row.className = w.status === "DONE" ? "completed" : w.status === "FAILED" ? "failed" : "running";
      return row;
    }));
  };

  const follow = async (url, cipherKey) => {
    following?.sync.stop();
    following?.app.close();
    const options = cipherKey ? { compress: true, cipherKey } : {};
    const app = (await openApplication("biomero", options)).defineWorkflows();
    const sync = app.sync({ url, push: false, batch: 10 });
    following = { app, sync };
    localStorage.setItem("tributary-demo-biomero", JSON.stringify({ url, cipherKey }));
    sync.subscribe(async () => {
      const { state, position, lastError } = sync.status();
      $("biomero-status").textContent = `${state} · BIOMERO position ${position}${lastError ? ` · ${lastError.name}: ${lastError.message}` : ""}`;
      $("biomero-status").className = state === "failed" ? "error" : state;
    });
    app.view("workflowProgress").subscribe(render);
    sync.start();
    await render();
  };

  form.onsubmit = (event) => {
    event.preventDefault();
    follow(form.url.value.trim(), form.key.value.trim()).catch((error) => {
      $("biomero-status").textContent = `${error.name}: ${error.message}`;
      $("biomero-status").className = "error";
    });
  };
  if (saved) await follow(saved.url, saved.cipherKey).catch((error) => { $("biomero-status").textContent = `${error.name}: ${error.message}`; });
}
