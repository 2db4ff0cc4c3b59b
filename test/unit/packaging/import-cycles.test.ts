// The source tree has no import circle: a module that needs a piece of another one's neighbour
// gets it from a module both can import, so that layers stay readable in one direction.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const sourceRoot = path.join(root, "src");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Relative imports of a module, type-only ones included: they tie the modules together as much. */
export function localImports(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms)].map((match) => match[1]);
  return specifiers.map((specifier) => path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts")));
}

/** Every circle in the graph, each as the path of files that closes it. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("source layout", () => {
  it("finds a circle when there is one, so the check below can fail", () => {
    const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
    assert.deepEqual(findCycles(graph), [["a", "b", "c", "a"]]);
    assert.deepEqual(findCycles(new Map([["a", ["b"]], ["b", []]])), []);
  });

  it("reads type-only and multi-line imports as imports", () => {
    const file = path.join(sourceRoot, "x", "y.ts");
    const text = 'import type { A } from "./a.js";\nimport {\n  b,\n  c,\n} from "../b.js";\nexport { d } from "./d.js";\nimport x from "node:fs";\n';
    assert.deepEqual(localImports(file, text).map((target) => path.relative(sourceRoot, target)), ["x/a.ts", "b.ts", "x/d.ts"]);
  });

  it("has no import circle under src/", () => {
    const graph = new Map<string, string[]>();
    for (const file of sourceFiles(sourceRoot)) graph.set(file, localImports(file, readFileSync(file, "utf8")));
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => path.relative(sourceRoot, file)).join(" -> "));
    assert.deepEqual(cycles, []);
  });

  it("has no import circle under sandbox/", () => {
    const sandboxRoot = path.join(root, "sandbox");
    const graph = new Map<string, string[]>();
    for (const file of sourceFiles(sandboxRoot)) graph.set(file, localImports(file, readFileSync(file, "utf8")));
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => path.relative(root, file)).join(" -> "));
    assert.deepEqual(cycles, []);
  });
});
