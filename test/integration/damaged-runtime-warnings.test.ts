// The damage cases issue 8 reported as wrong answers without a warning, each made on a real .NET 10
// dump (bytes located through clrscope's own readers, the dump read with alterations, commands
// run in-process as the campaign's workers run them, contracts backend, no DAC): each must now
// warn, or fail naming the real cause.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clrRuntime, newSession, type Session } from "../../src/commands/command.js";
import { runCommand } from "../../src/commands/registry.js";
import type { ContractsRuntime } from "../../src/runtime/contracts/contracts-runtime.js";
import { openCoreDump } from "../../src/native/process.js";
import { runJob } from "../support/campaign-worker.js";
import { fileOffsetOf, type CommandOutcome } from "../support/corruption-campaign.js";
import { scenarioDump } from "../support/dotnet-fixtures.js";

const { core, truth } = scenarioDump("full");

/** The intact dump open in-process, the contracts backend forced and the DAC kept out. */
function intactSession(): { session: Session; rt: ContractsRuntime; close: () => void } {
  const process_ = openCoreDump(core);
  const session: Session = newSession(process_, { backend: "contracts" });
  return { session, rt: clrRuntime(session) as ContractsRuntime, close: () => process_.close() };
}

function fileOffset(session: Session, address: number): number {
  const at = fileOffsetOf(session.process.core, address);
  assert.ok(at !== undefined, `0x${address.toString(16)} is in the dump`);
  return at;
}

function u64Hex(value: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b.toString("hex");
}

/** Runs `commands` over the dump with `patches` applied; each command's outcome by command line. */
function runAltered(patches: { offset: number; hex: string }[], commands: string[]): Map<string, CommandOutcome> {
  const report = runJob({ id: 0, dump: core, patches, commands });
  assert.equal(report.openError, undefined, "the altered dump opens");
  for (const o of report.outcomes) assert.ok(!o.internal, `${o.command}: ${o.error}`);
  return new Map(report.outcomes.map((o) => [o.command, o]));
}

/** The descriptor header's JSON address and size and its pointer_data address and count. */
function descriptorParts(session: Session, rt: ContractsRuntime): { json: number; jsonSize: number; pointerData: number; pointerCount: number } {
  const header = session.process.memory.read(rt.target.descriptor.address, 40);
  const v = new DataView(header.buffer, header.byteOffset, 40);
  return { json: Number(v.getBigUint64(16, true)), jsonSize: v.getUint32(12, true), pointerData: Number(v.getBigUint64(32, true)), pointerCount: v.getUint32(24, true) };
}

describe("damaged runtime data is warned (issue 8, item 9)", () => {
  it("a flipped character in a descriptor global (HashMapValueMask) makes bt all warn instead of dropping managed frames", () => {
    const { session, rt, close } = intactSession();
    let patch;
    try {
      const { json, jsonSize } = descriptorParts(session, rt);
      const text = Buffer.from(session.process.memory.read(json, jsonSize)).toString("latin1");
      const at = text.indexOf('"HashMapValueMask":["0x');
      assert.ok(at >= 0, "the descriptor publishes HashMapValueMask as a hex string");
      // "0x7fffffffffffffff" -> "0x7fffff/fffffffff", as in the issue.
      patch = { offset: fileOffset(session, json + at + '"HashMapValueMask":["0x'.length + 7), hex: Buffer.from("/").toString("hex") };
    } finally {
      close();
    }
    const bt = runAltered([patch], ["bt all"]).get("bt all")!;
    assert.equal(bt.error, undefined);
    assert.ok(bt.warnings.length > 0, "bt all warns");
  });

  it("a thread list that loops on its first thread: clrthreads warns of the loop and of the count", () => {
    const { session, rt, close } = intactSession();
    let patch;
    try {
      const first = rt.threads()[0]!.address;
      const link = first + rt.target.descriptor.offset("Thread", "LinkNext");
      patch = { offset: fileOffset(session, link), hex: u64Hex(link) };
    } finally {
      close();
    }
    const out = runAltered([patch], ["clrthreads", "clrstack -all -n", "pstacks"]);
    for (const c of ["clrthreads", "clrstack -all -n", "pstacks"]) {
      assert.ok(out.get(c)!.warnings.some((w) => /loops/.test(w)), `${c} warns of the loop: ${JSON.stringify(out.get(c))}`);
    }
    assert.ok(out.get("clrthreads")!.warnings.some((w) => /ThreadCount \(\d+\) does not match the 1 threads/.test(w)), "and of the count that contradicts the list");
  });

  it("a zeroed range-section map page: clrstack -all and pstacks warn instead of reporting no managed frame as fact", () => {
    const { session, rt, close } = intactSession();
    let page;
    try {
      const map = rt.target.descriptor.global("ExecutionManagerCodeRangeMapAddress");
      const at = fileOffset(session, map);
      page = { offset: at - (at % 4096), hex: "00".repeat(4096) };
    } finally {
      close();
    }
    // `thread backtrace all` is bt all again: cached lookups must warn again when used again.
    const commands = ["clrstack -all -n", "pstacks", "bt all", "thread backtrace all"];
    const out = runAltered([page], commands);
    for (const c of commands) {
      assert.equal(out.get(c)!.error, undefined, c);
      assert.ok(out.get(c)!.warnings.some((w) => /code map|range section map/.test(w)), `${c} warns about the code map: ${JSON.stringify(out.get(c)!.warnings)}`);
    }
  });

  it("an unreadable global (FreeObjectMethodTable) is named; the intact object is not called invalid", () => {
    const { session, rt, close } = intactSession();
    let patch;
    try {
      const { pointerData, pointerCount } = descriptorParts(session, rt);
      const global = rt.target.descriptor.globals.get("FreeObjectMethodTable")!;
      assert.ok(global.indirect, "FreeObjectMethodTable is a pointer_data global");
      const slots = Array.from({ length: pointerCount }, (_, i) => session.process.memory.readU64(pointerData + i * 8));
      const slot = slots.indexOf(global.value!);
      assert.ok(slot >= 0, "its pointer_data slot");
      // An address no dump holds: the global's variable cannot be read.
      patch = { offset: fileOffset(session, pointerData + slot * 8), hex: u64Hex(0x10) };
    } finally {
      close();
    }
    const out = runAltered([patch], [`dumpobj ${truth.exception.address}`]).get(`dumpobj ${truth.exception.address}`)!;
    assert.match(out.error ?? "", /global FreeObjectMethodTable is unreadable/);
    assert.doesNotMatch(out.error ?? "", /not a valid object/);
  });

  it("a damaged message string: pe warns instead of showing text dumpobj rejects", () => {
    const { session, close } = intactSession();
    let message: string;
    let patch;
    try {
      const ex = runCommand(session, `dumpobj ${truth.exception.address}`).result as { fields: { name: string; value: string }[] };
      message = ex.fields.find((f) => f.name === "_message")!.value;
      patch = { offset: fileOffset(session, Number(message)), hex: "ffffffffffff0000" };
    } finally {
      close();
    }
    const out = runAltered([patch], [`dumpobj ${message}`, `pe ${truth.exception.address}`]);
    assert.match(out.get(`dumpobj ${message}`)!.error ?? "", /not a valid object/);
    const pe = out.get(`pe ${truth.exception.address}`)!;
    assert.equal(pe.error, undefined);
    assert.ok(pe.warnings.some((w) => w.includes(message) && /not a valid System.String/.test(w)), JSON.stringify(pe));
  });

  it("a dump cut before libcoreclr's pages says which of its mappings it lacks instead of \"no runtime\"", () => {
    const { session, close } = intactSession();
    let cut: number;
    try {
      const first = session.process.core.files.find((f) => f.path.endsWith("/libcoreclr.so") && f.fileOffset === 0)!;
      cut = fileOffset(session, first.start);
    } finally {
      close();
    }
    const report = runJob({ id: 0, dump: core, patches: [], truncateAt: cut, commands: ["status", "bt all", "clrthreads"] });
    const byCommand = new Map(report.outcomes.map((o) => [o.command, o]));
    const lacks = /NT_FILE lists \S*libcoreclr\.so, but the dump lacks its mappings 0x[0-9a-f]+-0x[0-9a-f]+/;
    assert.ok(byCommand.get("status")!.warnings.some((w) => lacks.test(w)), JSON.stringify(byCommand.get("status")));
    assert.deepEqual(byCommand.get("status")!.summary, { threads: session.process.threads.length, runtime: null });
    assert.ok(byCommand.get("bt all")!.warnings.some((w) => lacks.test(w)), "bt all says why managed frames are not named");
    assert.match(byCommand.get("clrthreads")!.error ?? "", lacks);
  });

  it("runtime --json gives the descriptor's address as a \"0x...\" string", () => {
    const { session, rt, close } = intactSession();
    try {
      const r = runCommand(session, "runtime").result as { descriptorAddress: unknown };
      assert.equal(r.descriptorAddress, `0x${rt.target.descriptor.address.toString(16)}`);
    } finally {
      close();
    }
  });
});
