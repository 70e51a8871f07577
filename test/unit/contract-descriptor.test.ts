// The contract descriptor reader on descriptors written into synthetic memory (test/support/
// descriptor-writer.ts): every layout, global shape and contract version comes back as written,
// sub-descriptors merge, and damaged descriptors are typed errors naming what is wrong.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClrscopeError, CorruptDataError, MemoryNotInDump } from "../../src/errors.js";
import { MissingRuntimeDataError, readRuntimeDescriptor } from "../../src/runtime/contracts/descriptor.js";
import { GlobalUnreadableError } from "../../src/runtime/contracts/target.js";
import { SyntheticRuntime } from "../support/descriptor-writer.js";

function sample(): SyntheticRuntime {
  const rt = new SyntheticRuntime();
  rt.type("Thread", ["Id:u32", "OSId", "LinkNext", "Frame"]);
  rt.type("Unsized", { First: [0x1234, "u64"], Second: [0x7, "u8"] }, { size: null });
  rt.global("MethodDescAlignment", 24, "uint64");
  rt.global("HexString", "0x7ffe0000000000a1"); // beyond 2^53: only as a bigint
  rt.global("Negative", -8);
  rt.global("Text", "net11-preview", "string");
  rt.indirectGlobal("ThreadStore", 0x5a5a_0000_1230, "pointer");
  rt.contract("Thread", 1).contract("ExecutionManager", 2);
  return rt;
}

describe("descriptor reader", () => {
  test("types, field offsets and sizes, globals of every shape and contract versions read back as written", () => {
    const rt = sample();
    const d = rt.descriptor();
    assert.equal(d.offset("Thread", "Id"), rt.offset("Thread", "Id"));
    assert.equal(d.offset("Thread", "Frame"), 0x13, "the first field placed (the last declared) is at the writer's start");
    assert.equal(d.offset("Thread", "Id") % 2, 1, "the writer's offsets are deliberately unaligned");
    assert.equal(d.size("Thread"), rt.size("Thread"));
    assert.equal(d.types.get("Thread")!.fields.get("Id")!.type, "uint32");
    assert.equal(d.offset("Unsized", "First"), 0x1234);
    assert.throws(() => d.size("Unsized"), MissingRuntimeDataError);
    assert.ok(d.hasField("Thread", "OSId") && !d.hasField("Thread", "Nope") && !d.hasField("Nope", "Id"));
    assert.throws(() => d.offset("Thread", "Nope"), (e: unknown) => e instanceof MissingRuntimeDataError && /Thread\.Nope/.test(e.message));

    assert.equal(d.global("MethodDescAlignment"), 24);
    assert.equal(d.globalBig("HexString"), 0x7ffe0000000000a1n);
    assert.throws(() => d.global("HexString"), CorruptDataError, "a value past 2^53 is no address");
    assert.equal(d.globalBig("Negative"), 2n ** 64n - 8n, "negative values are two's complement 64-bit");
    assert.equal(d.globalString("Text"), "net11-preview");
    assert.equal(d.global("ThreadStore"), 0x5a5a_0000_1230);
    assert.equal(d.globals.get("ThreadStore")!.indirect, true);
    assert.equal(d.globals.get("MethodDescAlignment")!.indirect, false);
    assert.throws(() => d.global("Absent"), MissingRuntimeDataError);
    assert.equal(d.contractVersion("ExecutionManager"), 2);
    assert.equal(d.contractVersion("Loader"), undefined);
    assert.deepEqual(d.descriptorAddresses, [rt.writeDescriptor()]);
  });

  test("a sub-descriptor's types, globals and contracts merge into the main one; a null sub-descriptor is none", () => {
    const rt = sample();
    const gc = new SyntheticRuntime(rt.memory);
    gc.type("GCHeap", ["Generations:inline:64", "FinalizeQueue"]);
    gc.global("TotalGenerationCount", 5, "uint32");
    gc.contract("GC", 1);
    rt.subDescriptor("GC", gc);
    const d = rt.descriptor();
    assert.equal(d.offset("GCHeap", "FinalizeQueue"), gc.offset("GCHeap", "FinalizeQueue"));
    assert.equal(d.global("TotalGenerationCount"), 5);
    assert.equal(d.contractVersion("GC"), 1);
    assert.equal(d.descriptorAddresses.length, 2);

    const none = sample(); // pointer_data[0] is ThreadStore's
    none.indirectGlobal("GCDescriptorVariable", none.memory.alloc(8, 8)); // pointer_data[1]: a variable holding 0 (GC not initialised)
    none.extraJson = { subDescriptors: { GC: [1] } };
    assert.equal(none.descriptor().descriptorAddresses.length, 1);
  });

  test("damaged descriptors: typed errors that say what is wrong", () => {
    const rt = sample();
    const read = (header: Parameters<SyntheticRuntime["writeDescriptor"]>[0]) => () => readRuntimeDescriptor(rt.memory, rt.writeDescriptor(header));
    assert.throws(read({ magic: "DNCCDAX" }), (e: unknown) => e instanceof CorruptDataError && /magic/.test(e.message));
    assert.throws(read({ flags: 3 }), (e: unknown) => e instanceof ClrscopeError && /32-bit/.test(e.message));
    assert.throws(read({ jsonSize: 0x7fff_ffff }), (e: unknown) => e instanceof CorruptDataError && /implausible/.test(e.message));
    assert.throws(read({ json: '{"types": {"Thread": ' }), (e: unknown) => e instanceof CorruptDataError && /does not parse/.test(e.message));
    assert.throws(read({ json: '{"types": {"Thread": {"Id": {"offset": 4}}}}' }), (e: unknown) => e instanceof CorruptDataError && /Thread\.Id/.test(e.message));
    assert.throws(read({ json: '{"globals": {"ThreadStore": [7]}}' }), (e: unknown) => e instanceof CorruptDataError && /pointer_data\[7\]/.test(e.message));
    assert.throws(read({ json: '{"globals": {"X": {"a": 1}}}' }), CorruptDataError);
    // A header that claims more JSON than memory holds: missing memory, not garbage.
    assert.throws(read({ jsonSize: 0x10000 }), MemoryNotInDump);
    // A numeric global whose value is text is damage, not absence.
    const text = sample();
    text.global("MethodDescAlignment", "twenty-four", "uint64");
    assert.throws(() => text.descriptor().global("MethodDescAlignment"), (e: unknown) => e instanceof CorruptDataError && /not a number/.test(e.message));
  });

  test("sub-descriptors that loop or redeclare a type are errors, not a hang or a silent overwrite", () => {
    const loop = new SyntheticRuntime();
    const self = loop.memory.alloc(8, 8);
    loop.indirectGlobal("Me", self);
    loop.extraJson = { subDescriptors: { Loop: [0] } };
    const at = loop.writeDescriptor();
    loop.memory.u64(self, at); // the sub-descriptor variable holds the descriptor's own address
    assert.throws(() => readRuntimeDescriptor(loop.memory, at), (e: unknown) => e instanceof CorruptDataError && /cycle/.test(e.message));

    const dup = sample();
    const sub = new SyntheticRuntime(dup.memory);
    sub.type("Thread", ["Id:u32"]);
    dup.subDescriptor("GC", sub);
    assert.throws(() => dup.descriptor(), (e: unknown) => e instanceof CorruptDataError && /Thread is declared twice/.test(e.message));
  });

  test("a global variable the dump lacks is GlobalUnreadableError naming it", () => {
    const rt = sample();
    const cell = rt.variable("AppDomain", 0x5a5a_0000_4444);
    const t = rt.target();
    assert.equal(t.globalVariable("AppDomain"), 0x5a5a_0000_4444);
    rt.memory.drop(cell, 8);
    assert.throws(() => t.globalVariable("AppDomain"), (e: unknown) => e instanceof GlobalUnreadableError && /AppDomain/.test(e.message));
  });
});
