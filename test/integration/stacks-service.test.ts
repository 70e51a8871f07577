// The model's managed stack walk (runtime/stacks.ts, `openClrRuntime(dump).stacks()`), as the
// library hands it out, checked against SOS's own `clrstack -all` on the same dump (dotnet-dump, an
// oracle clrscope did not produce): every thread's rows, SP and IP as numbers, in SOS's order, with
// explicit Frames where SOS lists them. The contracts walk on .NET 10 and 11 (DAC off), the DAC's on .NET 8.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openClrRuntime, openDump } from "../../src/index.js";
import { dotnetDump, hasDotnet, helloDump, scenarioDump, type DotnetDump } from "../support/dotnet-fixtures.js";
import { sosAnswers } from "../support/sos-oracle.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

/** The commands sos-oracle.test.ts asks: the same list, so the cached dotnet-dump answers serve both. */
const SOS_COMMANDS = ["clrthreads", "dumpdomain", "clrstack -all", "pstacks"];

const dumps: { label: string; dump: () => DotnetDump<unknown>; backend?: "contracts"; walker: "contracts" | "dac" }[] = [
  { label: "scenarios, .NET 10 full dump", dump: () => scenarioDump("full"), walker: "contracts" },
  { label: "hello, .NET 10 heap dump", dump: () => dotnetDump("hello", "heap"), walker: "contracts" },
  { label: "scenarios, .NET 11 full dump, contracts only", dump: () => scenarioDump("full", "net11.0"), backend: "contracts", walker: "contracts" },
  { label: "hello, .NET 8 full dump", dump: () => helloDump("full", "net8.0"), walker: "dac" },
];

interface SosRow {
  sp: number;
  ip: number;
  isFrame: boolean;
}

/** SOS's clrstack -all rows by OS thread id. */
function sosStacks(lines: string[]): Map<number, SosRow[]> {
  const threads = new Map<number, SosRow[]>();
  let rows: SosRow[] | undefined;
  for (const line of lines) {
    const head = /^OS Thread Id: 0x([0-9a-f]+)/.exec(line);
    if (head) threads.set(parseInt(head[1]!, 16), (rows = []));
    const m = /^([0-9A-F]{16}) ([0-9A-Fa-f]{16}) (.*)$/.exec(line);
    if (m && rows) rows.push({ sp: parseInt(m[1]!, 16), ip: parseInt(m[2]!, 16), isFrame: m[3]!.startsWith("[") });
  }
  return threads;
}

for (const { label, dump, backend, walker } of dumps) {
  describe(`managed stack service on ${label}`, { skip, timeout: 900_000 }, () => {
    test("every thread's frames equal SOS's clrstack -all rows (SP, IP, Frame or method, order)", () => {
      const { core } = dump();
      const answer = sosAnswers(core, SOS_COMMANDS).get("clrstack -all");
      assert.ok(answer && !answer.failed, `SOS clrstack -all failed: ${answer?.lines.join("\n")}`);
      const expected = sosStacks(answer.lines);
      assert.ok(expected.size > 0, "SOS listed no thread");
      const process = openDump(core, { backend });
      try {
        const stacks = openClrRuntime(process).stacks();
        const all = stacks.all();
        assert.equal(all.walker, walker);
        assert.deepEqual(
          all.threads.map((t) => t.osId).sort((a, b) => a - b),
          [...expected.keys()].sort((a, b) => a - b),
          "the threads SOS walks",
        );
        let frames = 0;
        for (const t of all.threads) {
          const got = t.frames.map((f) => ({ sp: f.sp, ip: f.ip, isFrame: f.kind === "frame" }));
          assert.deepEqual(got, expected.get(t.osId), `thread 0x${t.osId.toString(16)}`);
          for (const f of t.frames) if (f.kind === "managed") assert.ok(f.methodDesc !== null && f.methodDesc > 0, "a managed frame has its MethodDesc");
          frames += got.length;
        }
        assert.ok(frames > 10, `only ${frames} frames walked`);
        // Kept for the session: asked again, the same walk (a copy, which the caller may change).
        const again = stacks.all();
        assert.deepEqual(again.threads, all.threads);
        again.threads[0]!.frames.length = 0;
        assert.deepEqual(stacks.all().threads, all.threads);
      } finally {
        process.close();
      }
    });
  });
}
