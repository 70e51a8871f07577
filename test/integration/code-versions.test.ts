// Code versions (CodeVersions contract) and dumpmd/ip2md's "Version History" on a createdump dump of
// test/targets/tiering: Tiering.Program.Hot is called until tiered compilation rejits it at tier 1
// and the main thread then parks inside it; Cold stays at tier 0; Driver is jitted optimized at
// once. Tiering is made deterministic with DOTNET_TC_CallCountingDelayMs=0 (count calls from the
// start) and DOTNET_TieredPGO=0 (no instrumented tier). Oracles clrscope did not produce:
// - the runtime's own MethodLoadVerbose events, received by the app in-process (EventListener):
//   each method's MethodDesc, every code start it jitted and the tier it jitted at;
// - the runtime's DAC (ISOSDacInterface GetMethodDescData, ISOSDacInterface5 GetTieredVersions,
//   ISOSDacInterface7 GetReJITInformation, what SOS's DumpMD prints from) for every MethodDesc of
//   every module's MethodDefToDescMap;
// - ClrMD 4.1 (its own DAC session in another process): the native code of the parked frames.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultOf, runCli, runCliJson } from "../support/cli.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDumpWithEnv, hasDotnet } from "../support/dotnet-fixtures.js";
import type { DumpmdResult } from "../../src/commands/sos/dumpmd.js";
import type { DumpmtResult } from "../../src/commands/sos/dumpmt.js";
import type { Ip2mdResult } from "../../src/commands/sos/ip2md.js";
import { openCoreDump } from "../../src/native/process.js";
import { openContractsRuntime } from "../../src/runtime/open-runtime.js";
import { openDacRuntime } from "../../src/runtime/dac/dac-runtime.js";
import { DAC_OPTIMIZATION_TIERS, type DacReJitData2, type DacTieredVersion } from "../../src/runtime/dac/sos-dac.js";
import { loadKoffi } from "../../src/runtime/dac/koffi.js";

const skip = !hasDotnet() ? "no dotnet SDK on PATH" : loadKoffi().error ?? false;

interface MethodLoad {
  method: string;
  methodDesc: string;
  start: string;
  size: number;
  /** MethodLoadVerbose's MethodFlags: bit 3 "Jitted", bits 7-9 the optimization tier. */
  flags: number;
}
interface TieringTruth {
  pid: number;
  libcoreclr: string;
  runtimeVersion: string;
  methods: Record<"Hot" | "Cold" | "Driver", { methodDesc: string; functionPointer: string; loads: MethodLoad[] }>;
}

/** The runtime event manifest's OptimizationTier values (MethodFlags bits 7-9) this scenario produces. */
const EVENT_TIERS: Record<number, string> = { 2: "Optimized", 3: "QuickJitted", 4: "OptimizedTier1" };
const eventTier = (l: MethodLoad) => EVENT_TIERS[(l.flags >> 7) & 7] ?? `event tier ${(l.flags >> 7) & 7}`;

const KNOBS = { DOTNET_TieredCompilation: "1", DOTNET_TC_CallCountingDelayMs: "0", DOTNET_TieredPGO: "0" };
const dump = (type: "full" | "heap" = "full") => dotnetDumpWithEnv<TieringTruth>("tiering", KNOBS, type);
const hex = (n: number) => "0x" + n.toString(16);

describe("code versions on a dump of tiering (a method rejitted at tier 1)", { skip, timeout: 900_000 }, () => {
  for (const type of ["full", "heap"] as const) test(`dumpmd on a ${type} dump: every code start the runtime reported, which version is current, and its tier, as the runtime's JIT events say`, () => {
    const d = dump(type);
    const m = d.truth.methods;
    const r = runCliJson(d.core, ["Hot", "Cold", "Driver"].map((n) => `dumpmd ${m[n as keyof typeof m].methodDesc}`));
    assert.equal(r.status, 0, r.stderr);
    const results = r.docs.filter((doc) => doc.command !== "open").map((doc) => doc.result as DumpmdResult);
    for (const [i, name] of (["Hot", "Cold", "Driver"] as const).entries()) {
      const truth = m[name];
      const md = results[i]!;
      assert.equal(md.methodDesc, truth.methodDesc);
      assert.equal(md.versionHistory.length, 1, `${name}: one IL version (no rejit)`);
      const il = md.versionHistory[0]!;
      assert.equal(il.ilCodeVersion, "0x0", `${name}: the default IL version`);
      assert.equal(il.rejitId, 0);
      assert.ok(il.ilAddress && il.ilAddress !== "0x0", `${name}: IL address`);
      assert.equal(md.tierSource, "dac", `${name}: .NET 10's descriptor has no tiers, the DAC gives them`);
      // Every code the runtime reported jitting is one native code version, at the reported tier.
      const versions = il.nativeCodeVersions.map((v) => ({ code: v.codeAddress, tier: v.tier }));
      assert.deepEqual(
        [...versions].sort((a, b) => a.code.localeCompare(b.code)),
        truth.loads.map((l) => ({ code: l.start, tier: eventTier(l) })).sort((a, b) => a.code.localeCompare(b.code)),
        `${name}: native code versions`,
      );
      // The latest code jitted is the active version and SOS's "Current CodeAddr".
      const latest = truth.loads[truth.loads.length - 1]!;
      assert.equal(md.codeAddress, latest.start, `${name}: Current CodeAddr`);
      assert.deepEqual(il.nativeCodeVersions.filter((v) => v.isActive).map((v) => v.codeAddress), [latest.start], `${name}: the active version`);
      assert.equal(md.isJitted, true);
    }
    // Hot: the default version (tier 0, no node) and a NativeCodeVersionNode with the tier-1 code.
    const hot = results[0]!.versionHistory[0]!.nativeCodeVersions;
    assert.equal(m.Hot.loads.length, 2, "the app saw Hot jitted twice");
    assert.deepEqual(hot.map((v) => [v.nativeCodeVersion === "0x0", v.tier]), [[true, "QuickJitted"], [false, "OptimizedTier1"]]);
    assert.ok(results[0]!.versionNotes.some((n) => n.includes("NativeCodeVersionNode.OptimizationTier")), "the note names the field the descriptor lacks");
    // dumpmt -md shows the code that runs now as well (the active version, as the DAC's
    // NativeCodeAddr), not the tier-0 code the MethodDesc's own slot still holds.
    const command = `dumpmt -md ${results[0]!.methodTable}`;
    const mt = runCliJson(d.core, [command]);
    const row = resultOf<DumpmtResult>(mt.docs, command).methods!.find((x) => x.methodDesc === m.Hot.methodDesc);
    assert.equal(row?.nativeCode, m.Hot.loads[1]!.start, "dumpmt -md: Hot's current code is its tier-1 code");
  });

  test("without a DAC the versions are the same, the tiers are null (text: SOS's \"Unknown Tier\") and a note says why", () => {
    const d = dump();
    // A --dac that is no DAC (a regular file that does not load) leaves the data contracts alone.
    const r = runCliJson(d.core, [`dumpmd ${d.truth.methods.Hot.methodDesc}`], ["--dac", "/etc/hostname"]);
    assert.equal(r.status, 0, r.stderr);
    const md = resultOf<DumpmdResult>(r.docs, `dumpmd ${d.truth.methods.Hot.methodDesc}`);
    assert.equal(md.tierSource, null);
    assert.deepEqual(md.versionHistory[0]!.nativeCodeVersions.map((v) => [v.codeAddress, v.tier]), d.truth.methods.Hot.loads.map((l) => [l.start, null]));
    assert.ok(md.versionNotes.some((n) => n.includes("OptimizationTier")) && md.versionNotes.some((n) => n.includes("DAC is not available")), JSON.stringify(md.versionNotes));
    const text = runCli(["analyze", d.core, "--dac", "/etc/hostname", "-c", `dumpmd ${d.truth.methods.Hot.methodDesc}`]);
    assert.equal(text.stdout.split("\n").filter((l) => l.endsWith("(Unknown Tier)")).length, 2, text.stdout);
  });



  test("dumpmd's text is SOS's Version History block, newest version first", () => {
    const d = dump();
    const r = runCli(["analyze", d.core, "-c", `dumpmd ${d.truth.methods.Hot.methodDesc}`]);
    assert.equal(r.status, 0, r.stderr);
    const p = (h: string) => BigInt(h).toString(16).padStart(16, "0");
    const [tier0, tier1] = d.truth.methods.Hot.loads;
    const lines = r.stdout.split("\n");
    const at = lines.indexOf("Version History:");
    assert.ok(at > 0, r.stdout);
    assert.equal(lines[at - 1], `Current CodeAddr:     ${p(tier1!.start)}`);
    assert.equal(lines[at + 1], `  ILCodeVersion:      ${p("0x0")}`);
    assert.equal(lines[at + 2], "  ReJIT ID:           0");
    assert.match(lines[at + 3]!, /^ {2}IL Addr: {12}[0-9a-f]{16}$/);
    assert.equal(lines[at + 4], `     CodeAddr:           ${p(tier1!.start)}  (OptimizedTier1)`);
    assert.match(lines[at + 5]!, /^ {5}NativeCodeVersion: {2}[0-9A-F]{16}$/);
    assert.notEqual(lines[at + 5], `     NativeCodeVersion:  ${p("0x0")}`);
    assert.equal(lines[at + 6], `     CodeAddr:           ${p(tier0!.start)}  (QuickJitted)`);
    assert.equal(lines[at + 7], `     NativeCodeVersion:  ${p("0x0")}`);
  });

  test("ip2md: an address in either version names that version's code as current; the parked frame is in tier-1 code (ClrMD agrees)", () => {
    const d = dump();
    const [tier0, tier1] = d.truth.methods.Hot.loads;
    const clrstack = runCliJson(d.core, ["clrstack"]);
    const frames = (resultOf(clrstack.docs, "clrstack") as { threads?: { frames: { ip: string; methodDesc?: string }[] }[]; frames?: { ip: string; methodDesc?: string }[] });
    const allFrames = frames.frames ?? frames.threads?.flatMap((t) => t.frames) ?? [];
    const parked = allFrames.find((f) => f.methodDesc === d.truth.methods.Hot.methodDesc);
    assert.ok(parked, `no Hot frame in ${JSON.stringify(allFrames)}`);
    const ip = Number(parked.ip);
    assert.ok(ip > Number(tier1!.start) && ip < Number(tier1!.start) + tier1!.size, `the parked IP ${parked.ip} is inside Hot's tier-1 code`);

    const r = runCliJson(d.core, [`ip2md ${parked.ip}`, `ip2md ${hex(Number(tier0!.start) + 1)}`]);
    assert.equal(r.status, 0, r.stderr);
    const [inTier1, inTier0] = r.docs.filter((doc) => doc.command !== "open").map((doc) => doc.result as Ip2mdResult);
    assert.equal(inTier1!.methodDesc, d.truth.methods.Hot.methodDesc);
    assert.equal(inTier1!.codeAddress, tier1!.start);
    assert.equal(inTier0!.methodDesc, d.truth.methods.Hot.methodDesc);
    assert.equal(inTier0!.codeAddress, tier0!.start);
    assert.equal(inTier0!.versionHistory[0]!.nativeCodeVersions.length, 2);

    // The DAC's GetMethodDescData with the address as requestedIP (what SOS's ip2md prints from).
    const process = openCoreDump(d.core);
    try {
      const { dac, error } = openDacRuntime(process);
      assert.ok(dac, error);
      for (const [at, ours] of [[ip, inTier1!], [Number(tier0!.start) + 1, inTier0!]] as const) {
        assert.equal(ours.codeAddress, hex(dac.sos.methodDescData(Number(ours.methodDesc), at).NativeCodeAddr), `DAC current code for IP ${hex(at)}`);
      }
    } finally {
      process.close();
    }

    // ClrMD's native code of the parked Hot frame: its ClrMethod.NativeCode (through its own DAC).
    const stacks = clrmdOracle(d.core, "stacks").result.threads;
    const hotFrame = stacks.flatMap((t) => t.frames).find((f) => f.method?.methodDesc === d.truth.methods.Hot.methodDesc);
    assert.ok(hotFrame?.method, "ClrMD sees the Hot frame");
    assert.equal(BigInt(hotFrame.method.nativeCode), BigInt(tier1!.start), "ClrMD's NativeCode of Hot");
    assert.equal(BigInt(hotFrame.ip), BigInt(parked.ip), "ClrMD's IP of the Hot frame");
  });

  test("the CodeVersions contract agrees with the DAC (GetMethodDescData, GetReJITInformation, GetTieredVersions) on every MethodDesc of every module", () => {
    const d = dump();
    const process = openCoreDump(d.core);
    try {
      const rt = openContractsRuntime(process);
      const { dac, error } = openDacRuntime(process);
      assert.ok(dac, error);
      const loader = rt.loader();
      let methods = 0;
      let withNodes = 0;
      const started = performance.now();
      let ourMs = 0;
      for (const module of loader.moduleAddresses()) {
        for (const e of loader.lookupMapEntries(loader.module(module).maps.methodDefToDesc)) {
          const md = e.value;
          const t0 = performance.now();
          const ours = rt.codeVersions(md);
          ourMs += performance.now() - t0;
          const where = `MethodDesc ${hex(md)}`;
          const data = dac.sos.methodDescData(md);
          const active = ours.ilVersions.find((v) => v.isActive)!;
          assert.equal(active.rejitId, data.rejitDataCurrent.rejitID, `${where}: current rejit id`);
          if (ours.activeNativeVersion && ours.activeNativeVersion.nativeCode !== 0) {
            assert.equal(hex(ours.activeNativeVersion.nativeCode), hex(data.NativeCodeAddr), `${where}: current code`);
          }
          for (const il of ours.ilVersions) {
            const rejit: DacReJitData2 = dac.sos.reJitInformation(md, il.rejitId)!;
            assert.equal(hex(il.node), hex(rejit.ilCodeVersionNodePtr), `${where}: IL code version of rejit ${il.rejitId}`);
            assert.equal(hex(il.ilAddress ?? -1), hex(rejit.il), `${where}: IL address`);
            const tiered: DacTieredVersion[] = dac.sos.tieredVersions(md, il.rejitId)!;
            assert.deepEqual(
              il.nativeVersions.map((v) => ({ code: hex(v.nativeCode), node: hex(v.node) })),
              tiered.map((v) => ({ code: hex(v.NativeCodeAddr), node: hex(v.NativeCodeVersionNodePtr) })),
              `${where}: native code versions (${tiered.map((v) => DAC_OPTIMIZATION_TIERS[v.OptimizationTier]).join(", ")})`,
            );
            if (il.nativeVersions.some((v) => v.node !== 0)) withNodes++;
          }
          methods++;
        }
      }
      const elapsed = performance.now() - started;
      console.log(`code versions: ${methods} MethodDescs, ${withNodes} with NativeCodeVersionNodes, agree with the DAC; ours ${ourMs.toFixed(0)} ms, total ${elapsed.toFixed(0)} ms`);
      assert.ok(methods > 1000, `only ${methods} MethodDescs compared`);
      assert.ok(withNodes >= 1, "at least Hot has a NativeCodeVersionNode");
    } finally {
      process.close();
    }
  });
});
