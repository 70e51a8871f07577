// `clrstack -all` on createdump dumps of test/targets/hello, against ClrMD's stack walk of the
// same dump (the runtime's native DAC): the same managed frames and explicit runtime Frames, in
// the same order, with the same stack addresses and method signatures.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runCliJson } from "../support/cli.js";
import { clrmdOracle, type ClrmdFrame } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

interface Row {
  kind: "managed" | "frame";
  sp: bigint;
  what: string;
  ip: bigint;
}

/** ClrMD's rows; like SOS (and clrscope), it lists an active InlinedCallFrame twice (native IP, then call-site IP). */
function clrmdRows(frames: ClrmdFrame[]): Row[] {
  const rows: Row[] = [];
  frames.forEach((f) => {
    if (f.kind === "Runtime") {
      rows.push({ kind: "frame", sp: BigInt(f.sp), what: f.frameName ?? "?", ip: BigInt(f.ip) });
    } else if (f.kind === "ManagedMethod" && f.method) {
      // Below a Frame the IP is the one the Frame recorded (an InlinedCallFrame's call site), on both sides.
      rows.push({ kind: "managed", sp: BigInt(f.sp), what: f.method.signature ?? "?", ip: BigInt(f.ip) });
    }
  });
  return rows;
}

for (const type of ["full", "heap"] as const) {
  describe(`clrstack -all on a ${type} dump`, { skip, timeout: 900_000 }, () => {
    test("frames, order, stack addresses and names equal ClrMD's", () => {
      const d = dotnetDump("hello", type);
      const { docs, status, stderr } = runCliJson(d.core, ["clrstack -all"]);
      assert.equal(status, 0, stderr);
      const ours = docs.find((x) => x.command === "clrstack -all")!.result.threads as { osId: number; frames: { kind: "managed" | "frame"; sp: string; ip: string; callSite: string; frameName: string | null }[] }[];
      const theirs = clrmdOracle(d.core, "stacks").result.threads;
      let managed = 0;
      for (const t of theirs) {
        const mine = ours.find((x) => x.osId === t.osThreadId);
        assert.ok(mine, `thread ${t.osThreadId} missing from clrstack -all`);
        const expected = clrmdRows(t.frames);
        const got: Row[] = mine.frames.map((f) => ({
          kind: f.kind,
          sp: BigInt(f.sp),
          what: f.kind === "frame" ? f.frameName! : f.callSite,
          ip: BigInt(f.ip),
        }));
        assert.deepEqual(got, expected, `thread ${t.osThreadId}`);
        managed += expected.filter((r) => r.kind === "managed").length;
      }
      assert.ok(managed >= 15, `only ${managed} managed frames compared`);
    });
  });
}
