// Writes the TypeScript examples of the README and of docs/ into test/.readme.ts
// (one function scope each), so that `npm test` type-checks them against the
// package's types.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const docs = new URL("../../docs/", import.meta.url);
const pages = [new URL("../../README.md", import.meta.url), ...readdirSync(docs).filter((name) => name.endsWith(".md")).map((name) => new URL(name, docs))];
const blocks = pages.flatMap((page) => [...readFileSync(page, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]));
/** Module -> what the examples import from it: named imports merged, a default one kept. */
const imports = new Map();
const bodies = blocks.map((code, i) => {
  const body = code.replace(/^import (?:(\w+)|\{([^}]*)\}) from ("[^"]+");$/gm, (_, whole, names, module) => {
    const from = imports.get(module) ?? { names: new Set() };
    if (whole) from.whole = whole;
    for (const name of names?.split(",") ?? []) if (name.trim()) from.names.add(name.trim());
    imports.set(module, from);
    return "";
  }).trim();
  return `export async function example${i + 1}() {\n${body}\n}`;
});
const importLines = [...imports].map(([module, { whole, names }]) =>
  `import ${[whole, names.size ? `{ ${[...names].join(", ")} }` : ""].filter(Boolean).join(", ")} from ${module};`);
const free = [
  "// The names the README's snippets take as given: the dog school of the first example.",
  'import type { Application } from "tributary";',
  "type DogSchool = Application<{ Dog: { state: { name: string; tricks: string[] }; events: { Registered: { name: string }; TrickAdded: { trick: string } } } }>;",
  "declare const app: DogSchool, dogschool: DogSchool, id: string, notificationIdInDogschool: number;",
  "declare function render(change: unknown): void;",
];
writeFileSync(new URL("./.readme.ts", import.meta.url), [...importLines, ...free, ...bodies].join("\n\n") + "\n");
console.log(`type-checking ${blocks.length} examples of the README and docs/`);
