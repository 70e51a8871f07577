// DESIGN.md's layering rules, checked on the source tree: commands talk to the managed model in
// src/runtime/, never to a backend (runtime/contracts, runtime/dac), and no files import each
// other in a circle. The checker itself is tested on a small tree made to break both rules.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../support/cache.js";
import { forbiddenImports, importCircles, importGraph, importSpecifiers } from "../support/import-graph.js";

const BACKENDS = ["runtime/contracts", "runtime/dac"];

describe("the import checker", () => {
  const root = mkdtempSync(join(tmpdir(), "clrscope-layers-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write("commands/a.ts", 'import { x } from "../runtime/model.js";\nimport type {\n  Y,\n} from "../runtime/dac/dac-runtime.js";\n');
  write("commands/b.ts", 'export { z } from "./c.js";\nimport "./side.js";\n');
  write("commands/c.ts", 'const m = await import("./b.js");\nimport { readFileSync } from "node:fs";\n// import { q } from "./nowhere.js" in a comment names no file of the tree\n');
  write("commands/side.ts", "export {};\n");
  write("runtime/model.ts", 'import type { C } from "./contracts/descriptor.js";\n');
  write("runtime/contracts/descriptor.ts", "export type C = number;\n");
  write("runtime/dac/dac-runtime.ts", "export type Y = number;\n");

  test("reads static, multi-line, type-only, re-export, side-effect and dynamic imports", () => {
    assert.deepEqual(importSpecifiers('import a from "./a.js";\nexport * from "./b.js";\nimport "./c.js";\nvoid import("./d.js");'), ["./a.js", "./b.js", "./c.js", "./d.js"]);
    const graph = importGraph(root);
    assert.deepEqual(graph.get("commands/a.ts"), ["runtime/dac/dac-runtime.ts", "runtime/model.ts"]);
    assert.deepEqual(graph.get("commands/b.ts"), ["commands/c.ts", "commands/side.ts"]);
    assert.deepEqual(graph.get("commands/c.ts"), ["commands/b.ts"]);
  });

  test("finds a command's import of a backend and an import circle", () => {
    const graph = importGraph(root);
    assert.deepEqual(forbiddenImports(graph, ["commands"], BACKENDS), [{ file: "commands/a.ts", imports: "runtime/dac/dac-runtime.ts" }]);
    // The model (runtime/) may use a backend; only commands may not.
    assert.deepEqual(forbiddenImports(graph, ["runtime/model.ts"], BACKENDS), []);
    assert.deepEqual(importCircles(graph), [["commands/b.ts", "commands/c.ts"]]);
  });
});

describe("src/ follows the layers", () => {
  const graph = importGraph(join(repoRoot, "src"));

  test("the tree is read (commands and backends are there)", () => {
    assert.ok([...graph.keys()].filter((f) => f.startsWith("commands/")).length >= 20);
    assert.ok([...graph.keys()].some((f) => f.startsWith("runtime/contracts/")));
    assert.ok([...graph.keys()].some((f) => f.startsWith("runtime/dac/")));
  });

  test("no command file imports runtime/contracts or runtime/dac", () => {
    const bad = forbiddenImports(graph, ["commands"], BACKENDS);
    assert.deepEqual(bad, [], bad.map((b) => `src/${b.file} imports src/${b.imports}`).join("\n"));
  });

  test("no import circle", () => {
    const circles = importCircles(graph);
    assert.deepEqual(circles, [], circles.map((c) => c.join(" <-> ")).join("\n"));
  });
});
