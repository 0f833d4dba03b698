// The demo page: runs the dog school inside the WebAssembly core and shows the
// notification log exactly as a Python eventsourcing server would serve it.
import init, { dogSchoolDemo, version } from "../pkg-config/wasm/tributary.js";

const $ = (id) => document.getElementById(id);

async function run(form) {
  const names = form.names.value.split(",").map((n) => n.trim()).filter(Boolean);
  try {
    const json = await dogSchoolDemo(names, form.trick.value);
    $("section").textContent = JSON.stringify(JSON.parse(json), null, 2);
    $("status").textContent = `Saved ${names.length * 2} events atomically; the core runs.`;
    $("status").className = "";
  } catch (error) {
    $("status").textContent = `${error.name}: ${error.message}`;
    $("status").className = "error";
  }
}

await init();
$("version").textContent = `v${version()}`;
$("school").addEventListener("submit", (event) => {
  event.preventDefault();
  run(event.target);
});
run($("school"));
