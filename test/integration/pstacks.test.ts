// `pstacks` on createdump dumps of test/targets/hello (.NET 10, where the contracts backend
// walks, and self-contained .NET 9 and 8, where the runtime's DAC walks): the merged tree must
// count, at every node, exactly the threads whose managed stack (per ClrMD's walk with the
// runtime's DAC) starts from the root with that node's path.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

interface StackNode {
  frame: string;
  threads: number[];
  children: StackNode[];
}

for (const framework of [undefined, "net9.0", "net8.0"]) {
  test(`pstacks merges the managed stacks exactly as ClrMD's walks imply (${framework ?? "net10.0, shared runtime"})`, { skip: hasDotnet() ? false : "no dotnet SDK on PATH", timeout: 900_000 }, () => {
    const d = dotnetDump("hello", "full", framework);
    const { docs, status, stderr } = runCliJson(d.core, ["pstacks"]);
    assert.equal(status, 0, stderr);
    const result = docs.find((x) => x.command === "pstacks")!.result as { roots: StackNode[]; threadCount: number };
    // ClrMD's managed frames per thread, outermost first.
    const stacks = clrmdOracle(d.core, "stacks").result.threads
      .map((t) => ({ osId: t.osThreadId, frames: t.frames.filter((f) => f.kind === "ManagedMethod" && f.method).map((f) => f.method!.signature!).reverse() }))
      .filter((s) => s.frames.length > 0);
    assert.equal(result.threadCount, stacks.length, "threads with managed frames");
    let nodes = 0;
    const check = (node: StackNode, path: string[]) => {
      const here = [...path, node.frame];
      const expected = stacks.filter((s) => here.every((f, i) => s.frames[i] === f)).map((s) => s.osId).sort();
      assert.deepEqual([...node.threads].sort(), expected, `threads through ${here.join(" -> ")}`);
      assert.equal(new Set(node.children.map((c) => c.frame)).size, node.children.length, "children are merged by frame");
      nodes++;
      for (const c of node.children) check(c, here);
    };
    for (const root of result.roots) check(root, []);
    assert.equal(new Set(result.roots.map((r) => r.frame)).size, result.roots.length);
    assert.ok(nodes >= 20, `only ${nodes} nodes`);
    // On .NET 10 the thread-pool and dedicated threads share Thread.StartCallback as their root
    // (earlier runtimes enter a thread's start method straight from native code).
    if (framework === undefined) assert.ok(result.roots.some((r) => r.frame === "System.Threading.Thread.StartCallback()" && r.threads.length >= 5));
  });
}
