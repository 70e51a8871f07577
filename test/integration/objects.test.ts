// dumpobj and printexception on createdump dumps of test/targets/hello, through data contracts
// only, against two oracles clrscope did not produce: the app's truth file (a heap string and a
// thrown-and-caught InvalidOperationException that Main keeps pinned, with their addresses, text,
// types and HResult as the process saw them) and ClrMD's view of the same objects (the DAC).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultOf, runCliJson } from "../support/cli.js";
import { clrmdOracle, type ClrmdObject } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";
import type { DumpobjResult } from "../../src/commands/sos/dumpobj.js";
import type { PrintexceptionResult } from "../../src/commands/sos/printexception.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";


const big = (h: string) => BigInt(h);

function field(o: ClrmdObject, name: string) {
  const f = o.fields?.find((x) => x.name === name);
  assert.ok(f, `ClrMD lists no field ${name} on ${o.type}`);
  return f;
}

for (const type of ["full", "heap"] as const) {
  describe(`dumpobj and printexception on a ${type} dump`, { skip, timeout: 900_000 }, () => {
    test("dumpobj of the pinned string shows its text, type and size", () => {
      const d = dotnetDump("hello", type);
      const s = d.truth.objects.string;
      const { docs, status, stderr } = runCliJson(d.core, [`dumpobj ${s.address}`, `do ${s.address}`]);
      assert.equal(status, 0, stderr);
      const r = resultOf<DumpobjResult>(docs, `dumpobj ${s.address}`);
      assert.deepEqual(resultOf<DumpobjResult>(docs, `do ${s.address}`), r, "do is dumpobj");
      assert.equal(r.string, s.value);
      assert.equal(r.name, "System.String");
      assert.equal(big(r.methodTable), big(d.truth.methodTables["System.String"]!));
      assert.ok(r.file.endsWith("/System.Private.CoreLib.dll"), r.file);
      const theirs = clrmdOracle(d.core, "objects", s.address).result.objects[0]!;
      assert.equal(theirs.valid, true);
      assert.equal(theirs.string, s.value);
      assert.equal(r.size, theirs.size, "size");
      assert.equal(big(r.methodTable), big(theirs.methodTable!));
      // Fields come from the DAC (as SOS lists them: metadata names, statics too).
      assert.equal(r.fieldsSource, "dac");
      const length = r.fields!.find((f) => f.name === "_stringLength")!;
      assert.equal(length.offset, field(theirs, "_stringLength").objectOffset);
      assert.equal(Number(length.value), s.value.length);
    });

    test("printexception of the pinned exception: type, message, inner exception, HResult", () => {
      const d = dotnetDump("hello", type);
      const e = d.truth.objects.exception;
      const { docs, status, stderr } = runCliJson(d.core, [`printexception ${e.address}`, `pe ${e.address}`, `dumpobj ${e.address}`]);
      assert.equal(status, 0, stderr);
      const r = resultOf<PrintexceptionResult>(docs, `printexception ${e.address}`);
      assert.deepEqual(resultOf<PrintexceptionResult>(docs, `pe ${e.address}`), r, "pe is printexception");
      assert.equal(big(r.address), big(e.address));
      assert.equal(r.type, e.type);
      assert.equal(r.type, "System.InvalidOperationException");
      assert.equal(r.message, e.message);
      assert.equal(r.hResult, e.hResult);
      assert.equal(r.hResult, "80131509"); // COR_E_INVALIDOPERATION
      assert.ok(r.innerException, "no inner exception");
      assert.equal(r.innerException.type, e.innerType);
      assert.ok(r.stackTrace, "a thrown exception has a _stackTrace");
      assert.equal(r.stackTraceString, null);

      // The same fields as the DAC sees them (ClrMD).
      const theirs = clrmdOracle(d.core, "objects", e.address).result.objects[0]!;
      assert.equal(theirs.type, e.type);
      const message = field(theirs, "_message").value as { ref: string; string?: string };
      assert.equal(r.message, message.string);
      const hr = field(theirs, "_HResult").value as number;
      assert.equal(r.hResult, (hr >>> 0).toString(16).padStart(8, "0"));
      const inner = field(theirs, "_innerException").value as { ref: string; type?: string };
      assert.equal(big(r.innerException.address), big(inner.ref));
      assert.equal(r.innerException.type, inner.type);

      // dumpobj lists the exception's fields (from the DAC, or else the descriptor's Exception
      // fields) at ClrMD's offsets, with ClrMD's values and tokens.
      const o = resultOf<DumpobjResult>(docs, `dumpobj ${e.address}`);
      assert.equal(o.name, e.type);
      assert.equal(o.size, theirs.size, "size");
      assert.ok(o.fields && o.fields.length >= 6, JSON.stringify(o.fields));
      for (const f of o.fields) {
        const t = field(theirs, f.name);
        assert.equal(f.offset, t.objectOffset, `${f.name}: offset`);
        assert.equal(big(f.token!), big(t.token), `${f.name}: token`);
        if (f.kind === "int32" || f.kind === "int") assert.equal(Number(f.value), Number(t.value), `${f.name}: value`);
        else if (f.kind === "pointer") assert.equal(big(f.value), BigInt.asUintN(64, BigInt(t.value as string)), `${f.name}: value`);
        else assert.equal(big(f.value), big((t.value as { ref: string }).ref), `${f.name}: value`);
      }
      assert.equal(o.fields.find((f) => f.name === "_message")!.string, e.message);

      // The inner exception, followed as printexception suggests.
      const { docs: innerDocs } = runCliJson(d.core, [`pe ${r.innerException.address}`]);
      const ir = resultOf<PrintexceptionResult>(innerDocs, `pe ${r.innerException.address}`);
      assert.equal(ir.type, e.innerType);
      assert.equal(ir.message, e.innerMessage);
      assert.equal(ir.innerException, null);
    });

    test("bad input: not an object, not an exception", () => {
      const d = dotnetDump("hello", type);
      const s = d.truth.objects.string.address;
      const { docs } = runCliJson(d.core, ["dumpobj 0x1000", `pe ${s}`, "pe 0x1000"]);
      assert.match(docs.find((x) => x.command === "dumpobj 0x1000")!.error!.message, /is not a valid object/);
      assert.match(docs.find((x) => x.command === `pe ${s}`)!.error!.message, /is not an exception object/);
      assert.match(docs.find((x) => x.command === "pe 0x1000")!.error!.message, /is not a valid object/);
    });
  });
}
