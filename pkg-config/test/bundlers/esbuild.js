// The app for esbuild, which leaves the package's .wasm behind: its one line, with
// esbuild's file loader for .wasm (`--loader:.wasm=file`).
import wasm from "tributary/wasm";
import { init } from "tributary";
import { visit } from "./dogs.js";

await init({ wasm: new URL(wasm, import.meta.url) });
visit(document.getElementById("out"));
