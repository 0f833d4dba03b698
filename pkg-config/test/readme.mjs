// Writes the TypeScript examples of the README, of docs/ and of the package's own
// README into test/.readme.ts (one function scope each), so that `npm test`
// type-checks them against the package's types; and fails on a link between
// them to a file or heading that is not there.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const docs = new URL("../../docs/", import.meta.url);
const pages = [
  new URL("../../README.md", import.meta.url),
  new URL("../README.md", import.meta.url),
  ...readdirSync(docs).filter((name) => name.endsWith(".md")).map((name) => new URL(name, docs)),
];

/** A heading's anchor, as GitHub makes it. */
const anchor = (heading) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
const dead = [];
for (const page of pages) {
  for (const [, target] of readFileSync(page, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // another site
    const [path, hash] = target.split("#");
    const file = path ? new URL(path, page) : page;
    if (!existsSync(file)) {
      dead.push(`${fileURLToPath(page)}: ${target} (no such file)`);
    } else if (hash && file.pathname.endsWith(".md")) {
      const headings = [...readFileSync(file, "utf8").matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1]));
      if (!headings.includes(hash)) dead.push(`${fileURLToPath(page)}: ${target} (no such heading)`);
    }
  }
}
if (dead.length) {
  console.error(`dead links:\n${dead.join("\n")}`);
  process.exit(1);
}
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
console.log(`links checked; type-checking ${blocks.length} examples of the READMEs and docs/`);
