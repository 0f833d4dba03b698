/**
 * `tributary/wasm`: the core's WebAssembly file, for bundlers that do not serve it
 * as it is. A bundler's file or URL import gives its URL: pass it to `init({ wasm })`.
 */
declare const wasm: string;
export default wasm;
