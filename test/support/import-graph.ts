// The import graph of a TypeScript source tree, read from the files' text: each file's relative
// imports (static, `export ... from`, side-effect and dynamic `import("...")`, type-only ones too),
// resolved to files of the tree. Used to check the layering rules of DESIGN.md.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";

/** File (relative to the root, "/"-separated) -> the files it imports. */
export type ImportGraph = Map<string, string[]>;

const STATIC_IMPORT = /^[ \t]*(?:import|export)\b[^;]*?\bfrom[ \t\n]*["']([^"']+)["']/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import[ \t]*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\([ \t\n]*["']([^"']+)["'][ \t\n]*\)/g;

/** The module specifiers a file's text imports. */
export function importSpecifiers(text: string): string[] {
  const out: string[] = [];
  for (const re of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT]) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The graph of every .ts file under `root`; imports of packages and of files outside the tree are left out. */
export function importGraph(root: string): ImportGraph {
  const files = tsFiles(root).map((f) => relative(root, f).split(sep).join("/"));
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets = new Set<string>();
    for (const spec of importSpecifiers(readFileSync(join(root, file), "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, ".ts");
      if (known.has(target)) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Every import of a file under one of `from` folders of a file under one of `to` folders. */
export function forbiddenImports(graph: ImportGraph, from: string[], to: string[]): { file: string; imports: string }[] {
  const under = (file: string, dirs: string[]) => dirs.some((d) => file.startsWith(d.endsWith("/") ? d : `${d}/`));
  const out: { file: string; imports: string }[] = [];
  for (const [file, targets] of graph) {
    if (!under(file, from)) continue;
    for (const t of targets) if (under(t, to)) out.push({ file, imports: t });
  }
  return out;
}

/** The import circles of a graph: its strongly connected components of more than one file (or a file importing itself), each sorted. */
export function importCircles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative (a deep tree must not overflow the stack).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const circles: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.edge < edges.length) {
        const to = edges[top.edge++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== top.node);
      if (component.length > 1 || edges.includes(top.node)) circles.push(component.sort());
    }
  }
  return circles;
}
