// Writes the README's TypeScript examples into test/.readme.ts (one function
// scope each), so that `npm test` type-checks them against the package's types.
import { readFileSync, writeFileSync } from "node:fs";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
const imports = new Set();
const bodies = blocks.map((code, i) => {
  const body = code.replace(/^import .*$/gm, (line) => (imports.add(line), "")).trim();
  return `export async function example${i + 1}() {\n${body}\n}`;
});
const free = [
  "// The names the README's snippets take as given: the dog school of the first example.",
  'import type { Application } from "tributary";',
  "type DogSchool = Application<{ Dog: { state: { name: string; tricks: string[] }; events: { Registered: { name: string }; TrickAdded: { trick: string } } } }>;",
  "declare const app: DogSchool, dogschool: DogSchool, id: string, notificationIdInDogschool: number;",
  "declare function render(change: unknown): void;",
];
writeFileSync(new URL("./.readme.ts", import.meta.url), [...imports, ...free, ...bodies].join("\n\n") + "\n");
console.log(`type-checking ${blocks.length} README examples`);
