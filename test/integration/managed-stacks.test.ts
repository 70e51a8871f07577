// Mixed-mode backtraces and ip2md on createdump dumps of test/targets/hello, checked against two
// oracles clrscope did not produce: the app's own truth file (MethodHandle.Value of each parked
// method) and ClrMD, which walks stacks with the runtime's native DAC. On .NET 10 clrscope uses
// data contracts only (managed frames unwound by their unwind data); on self-contained .NET 9 and
// 8, whose descriptors cannot map code, the DAC names the code and frame pointers unwind it: a
// JIT'd method that keeps no frame pointer is then stepped over (clrstack, which walks with the
// DAC, has it), so there every frame bt shows must be one of ClrMD's, in order, none invented.
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { describe, test } from "node:test";
import { runCliJson, type CliDoc, type CliThread } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

function results(docs: CliDoc[], command: string): any[] {
  return docs.filter((d) => d.command === command).map((d) => {
    assert.equal(d.error, undefined, `${command}: ${JSON.stringify(d.error)}`);
    return d.result;
  });
}

const isManaged = (module: string | null) => module !== null && module.endsWith(".dll");

const variants = [
  { type: "full", label: "a full dump", exactUnwind: true },
  { type: "heap", label: "a heap dump", exactUnwind: true },
  { type: "full", framework: "net9.0", label: "a .NET 9 full dump", exactUnwind: false },
  { type: "full", framework: "net8.0", label: "a .NET 8 full dump", exactUnwind: false },
] as const;

for (const v of variants) {
  const framework = "framework" in v ? v.framework : undefined;
  describe(`managed frames in bt and ip2md on ${v.label}`, { skip, timeout: 900_000 }, () => {
    test("every parked thread shows its parked method; ip2md gives the MethodDesc the process reported", () => {
      const d = dotnetDump("hello", v.type, framework);
      const { docs, status, stderr } = runCliJson(d.core, ["bt all"]);
      assert.equal(status, 0, stderr);
      const threads = results(docs, "bt all")[0].threads as CliThread[];
      const ips: string[] = [];
      const parked: typeof d.truth.threads = [];
      for (const th of d.truth.threads) {
        const t = threads.find((x) => x.tid === th.osTid)!;
        assert.equal(t.stop, "root", `${th.role}: the walk reaches the thread's root`);
        const frame = t.frames.find((f) => f.module === "hello.dll" && f.symbol === th.parkedIn);
        if (!frame && !v.exactUnwind) continue; // stepped over by the frame-pointer walk (see above)
        assert.ok(frame, `${th.role}: no hello.dll frame ${th.parkedIn} in ${t.frames.map((f) => `${f.module}!${f.symbol}`).join(" <- ")}`);
        ips.push(frame.ip);
        parked.push(th);
      }
      assert.ok(parked.length >= d.truth.threads.length / 2, `only ${parked.length} of ${d.truth.threads.length} parked methods in bt`);
      const md = runCliJson(d.core, ips.map((ip) => `ip2md ${ip}`));
      const answers = md.docs.filter((x) => x.command.startsWith("ip2md ")).map((x) => {
        assert.equal(x.error, undefined, `${x.command}: ${JSON.stringify(x.error)}`);
        return x.result;
      });
      parked.forEach((th, i) => {
        assert.equal(answers[i].methodDesc, d.truth.methodDescs[th.parkedIn], `${th.role}: MethodDesc of ${th.parkedIn}`);
        // SOS's method name with parameter types: Main(string[] args), the others take none.
        assert.equal(answers[i].name, th.parkedIn === "Hello.Program.Main" ? "Hello.Program.Main(System.String[])" : `${th.parkedIn}()`);
        assert.equal(answers[i].codeKind, "jit", "hello.dll is not ReadyToRun");
      });
    });

    test("managed frames (ip, sp, method) equal ClrMD's walk of the same dump", () => {
      const d = dotnetDump("hello", v.type, framework);
      const ours = results(runCliJson(d.core, ["bt all"]).docs, "bt all")[0].threads as CliThread[];
      const theirs = clrmdOracle(d.core, "stacks").result.threads;
      let compared = 0;
      for (const t of theirs) {
        const mine = ours.find((x) => x.tid === t.osThreadId);
        assert.ok(mine, `ClrMD thread ${t.osThreadId} not in bt all`);
        // ClrMD takes the frame below an InlinedCallFrame (a P/Invoke in progress) from the
        // Frame's recorded call site, a few bytes before the return address we unwind to: for
        // those frames the method and sp must match, the ip only lie in the same method.
        const afterRuntimeFrame = new Set<bigint>();
        const managedTheirs = t.frames.flatMap((f, i) => {
          if (f.kind !== "ManagedMethod" || !f.method) return [];
          if (t.frames[i - 1]?.kind === "Runtime") afterRuntimeFrame.add(BigInt(f.sp));
          return [f];
        });
        const ipUnlessFromFrame = (ip: string, sp: string) => (afterRuntimeFrame.has(BigInt(sp)) ? "(from an explicit Frame)" : BigInt(ip));
        const expected = managedTheirs.map((f) => ({ ip: ipUnlessFromFrame(f.ip, f.sp), sp: BigInt(f.sp), method: `${f.method!.type}.${f.method!.name}` }));
        const got = mine.frames.filter((f) => isManaged(f.module)).map((f) => ({ ip: ipUnlessFromFrame(f.ip, f.sp), sp: BigInt(f.sp), method: f.symbol }));
        if (v.exactUnwind) assert.deepEqual(got, expected, `thread ${t.osThreadId}: managed frames differ`);
        else {
          // In order, each equal to one of ClrMD's frames.
          let next = 0;
          for (const g of got) {
            while (next < expected.length && !isDeepStrictEqual(expected[next], g)) next++;
            assert.ok(next < expected.length, `thread ${t.osThreadId}: ${JSON.stringify(g, (_, x) => (typeof x === "bigint" ? x.toString(16) : x))} is not one of ClrMD's frames (in order)`);
            next++;
          }
        }
        compared += got.length;
      }
      assert.ok(compared >= 15, `only ${compared} managed frames compared`);
    });
  });
}
