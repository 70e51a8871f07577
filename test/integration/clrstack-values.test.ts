// `clrstack -a` (parameters, locals) and source lines, through the runtime's DAC, on a createdump
// dump of test/targets/stackvars: the values the app passed and holds (its truth file), the
// line numbers it recorded itself ([CallerLineNumber]). Then the DAC's own stack walk against the
// contracts backend's (.NET 10 hello), and the stacks of .NET 10 (contracts walk) and .NET 8 and
// .NET 9 hello (DAC walk) against the truth file's parked methods and the source lines of their
// blocking calls in hello's Program.cs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { openCoreDump } from "../../src/native/process.js";
import { openDacRuntime } from "../../src/runtime/dac/dac-runtime.js";
import { runCli, runCliJson } from "../support/cli.js";
import { repoRoot } from "../support/cache.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import type { ClrStackFrame, ClrStackResult, ClrStackValue } from "../../src/commands/sos/clrstack.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

interface StackVarsTruth {
  workerTid: number;
  frames: { method: string; line: number; this: string; parameters: { name: string; value: string }[]; locals: { name: string; value: string }[] }[];
}

const methodOf = (f: ClrStackFrame) => f.callSite.slice(0, f.callSite.indexOf("("));

// .NET 10 and .NET 8 with the PDB beside the assembly; .NET 10 with the PDB embedded in it (no .pdb file).
for (const { framework, properties } of [{ framework: undefined, properties: [] }, { framework: "net8.0", properties: [] }, { framework: undefined, properties: ["DebugType=embedded"] }]) {
  describe(`clrstack -a on stackvars (parameters, locals, source lines; ${[framework ?? "net10.0", ...properties].join(", ")})`, { skip, timeout: 900_000 }, () => {
    test("each parked frame's parameters and locals are the values the app passed and holds, on the lines it recorded", () => {
      const d = dotnetDump("stackvars", "full", framework, properties);
      const truth = d.truth as unknown as StackVarsTruth;
      assert.equal(fs.existsSync(d.dll.replace(/\.dll$/, ".pdb")), properties.length === 0);
      const { docs, status, stderr } = runCliJson(d.core, [`setthread -t ${truth.workerTid}`, "clrstack -a"]);
      assert.equal(status, 0, stderr);
      const result = docs.find((x) => x.command === "clrstack -a")!.result as ClrStackResult;
      // .NET 10: the contracts backend walks, the DAC adds values; .NET 8 (no descriptor): the DAC does both.
      assert.equal(result.walker, framework ? "dac" : "contracts");
      const frames = result.threads[0]!.frames;
      assert.equal(truth.frames.length, 2);
      for (const t of truth.frames) {
        const f = frames.find((x) => x.kind === "managed" && methodOf(x) === t.method);
        assert.ok(f, `${t.method} not on the worker's stack: ${frames.map((x) => x.callSite).join(", ")}`);
        assert.ok(f.source, `${t.method}: no source line`);
        assert.equal(path.basename(f.source.file), "Program.cs");
        assert.equal(f.source.line, t.line, `${t.method}: source line`);
        // Parameters: `this` first, then the declared ones in order, with the passed values, each in its stack home.
        const params = f.parameters!;
        assert.deepEqual(params.map((p) => p.name), ["this", ...t.parameters.map((p) => p.name)]);
        assert.equal(params[0]!.value, t.this);
        for (const p of t.parameters) {
          const got = params.find((x) => x.name === p.name)!;
          assert.equal(got.value, p.value, `${t.method} parameter ${p.name}`);
          assert.match(got.location ?? "", /^0x[0-9a-f]+$/, `${t.method} parameter ${p.name} location`);
        }
        // Locals: named from the PDB; unoptimized code keeps each in a stack slot, whose bytes hold the value.
        for (const l of t.locals) {
          const got: ClrStackValue | undefined = f.locals!.find((x) => x.name === l.name);
          assert.ok(got, `${t.method} local ${l.name} missing: ${JSON.stringify(f.locals)}`);
          assert.equal(got.value, l.value, `${t.method} local ${l.name}`);
          const home = BigInt(got.location!);
          assert.ok(home > 0n);
        }
      }
      // The text layout SOS prints.
      const run = runCli(["analyze", d.core, "-c", `setthread -t ${truth.workerTid}`, "-c", "clrstack -a"]);
      assert.equal(run.status, 0, run.stderr);
      const inner = truth.frames.find((t) => t.method === "StackVars.Worker.Inner")!;
      const lines = run.stdout.split("\n");
      const at = lines.findIndex((l) => / StackVars\.Worker\.Inner\(Int32, System\.String, Int64\) \[.*\/Program\.cs @ \d+\]$/.test(l));
      assert.ok(at > 0, run.stdout);
      assert.ok(lines[at]!.endsWith(`Program.cs @ ${inner.line}]`));
      assert.equal(lines[at + 1], "    PARAMETERS:");
      assert.match(lines[at + 2]!, new RegExp(`^        this \\(0x[0-9A-F]{16}\\) = ${inner.this}$`));
      assert.match(lines[at + 3]!, new RegExp(`^        n \\(0x[0-9A-F]{16}\\) = ${inner.parameters[0]!.value}$`));
      assert.ok(lines.slice(at).includes("    LOCALS:"));
    });
  });
}

/** One row of a stack for comparison: managed frames by SP and MethodDesc, explicit Frames by address and name. */
type Row = { kind: "managed" | "frame"; sp: string; what: string };

describe("the DAC's stack walk agrees with the contracts backend's (.NET 10 hello)", { skip, timeout: 900_000 }, () => {
  test("same managed frames (SP, MethodDesc) and explicit Frames (address, name), in the same order, on every thread", () => {
    const d = dotnetDump("hello", "full");
    const { docs, status, stderr } = runCliJson(d.core, ["clrstack -all -n"]);
    assert.equal(status, 0, stderr);
    const contracts = docs.find((x) => x.command === "clrstack -all -n")!.result as ClrStackResult;
    assert.equal(contracts.walker, "contracts");
    const process = openCoreDump(d.core);
    const { dac, error } = openDacRuntime(process);
    assert.ok(dac, error);
    let managed = 0;
    for (const t of contracts.threads) {
      const walked = dac.stackWalk(t.osId);
      assert.ok(walked, `the DAC does not walk thread ${t.osId}`);
      // The DAC reports an active InlinedCallFrame twice in a row (native IP, then call site), as the rows do.
      const theirs: Row[] = walked
        .filter((f) => f.frameAddress !== 0 || f.methodDesc !== 0)
        .map((f) => (f.frameAddress === 0 ? { kind: "managed", sp: "0x" + f.sp.toString(16), what: "0x" + f.methodDesc.toString(16) } : { kind: "frame", sp: "0x" + f.frameAddress.toString(16), what: f.frameName }));
      const ours: Row[] = t.frames.map((f) => ({ kind: f.kind, sp: f.sp, what: f.kind === "managed" ? f.methodDesc! : f.frameName! }));
      assert.deepEqual(ours, theirs, `thread ${t.osId}`);
      managed += ours.filter((r) => r.kind === "managed").length;
    }
    assert.ok(managed >= 15, `only ${managed} managed frames compared`);
    process.close();
  });
});

/** The text of the call each hello thread is parked in (its line is the oracle for the parked frame's source line). */
const BLOCKING_CALL: Record<string, string> = {
  main: "Thread.Sleep(int.TryParse(max",
  sleep: "Thread.Sleep(Timeout.Infinite)",
  "monitor-wait": "Monitor.Wait(MonitorObj)",
  "pipe-read": "reader.Read(new byte[16]",
  "event-wait": "NeverSet.WaitOne()",
  "threadpool-item": "NeverSetSlim.Wait()",
};

for (const framework of [undefined, "net8.0", "net9.0"]) {
  describe(`clrstack -all: parked methods and their source lines (${framework ?? "net10.0"} hello; ${framework ? "the DAC walks" : "contracts walk"})`, { skip, timeout: 900_000 }, () => {
    test("each parked thread shows its parked method (MethodDesc from the truth file) on the line of its blocking call", () => {
      const d = dotnetDump("hello", "full", framework);
      const source = fs.readFileSync(path.join(repoRoot, "test", "targets", "hello", "Program.cs"), "utf8").split("\n");
      const { docs, status, stderr } = runCliJson(d.core, ["clrstack -all"]);
      assert.equal(status, 0, stderr);
      const r = docs.find((x) => x.command === "clrstack -all")!.result as ClrStackResult;
      assert.equal(r.walker, framework ? "dac" : "contracts");
      for (const th of d.truth.threads) {
        const stack = r.threads.find((t) => t.osId === th.osTid);
        assert.ok(stack, `${th.role} (tid ${th.osTid}) not in clrstack -all`);
        const f = stack.frames.find((x) => x.kind === "managed" && methodOf(x) === th.parkedIn);
        assert.ok(f, `${th.role}: ${th.parkedIn} not on its stack: ${stack.frames.map((x) => x.callSite).join(", ")}`);
        assert.equal(f.methodDesc, d.truth.methodDescs[th.parkedIn]);
        const line = source.findIndex((l) => l.includes(BLOCKING_CALL[th.role]!)) + 1;
        assert.ok(line > 0, `no line with ${BLOCKING_CALL[th.role]} in hello's Program.cs`);
        assert.equal(f.source?.line, line, `${th.role}: source line of ${th.parkedIn}`);
        // Frames above the parked one: managed frames have names, explicit Frames have a class name
        // (and, where the runtime records one, the method they stand for, as SOS prints it).
        for (const x of stack.frames) assert.ok(x.kind === "managed" ? /\(/.test(x.callSite) : /^\[\w+: [0-9a-f]{16}\]( \S.*\(.*\))?$/.test(x.callSite), x.callSite);
      }
    });
  });
}
