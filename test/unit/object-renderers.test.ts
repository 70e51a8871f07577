// Golden tests of dumpobj's and printexception's renderers on hand-written results: the layouts
// dotnet-dump 10.0.750501 prints (SOS's PrintObj/DisplayFields/DisplayDataMember and
// FormatException), including the value formats no test dump happens to hold (NaN, infinities,
// blank statics, a TypeDesc handle).
import assert from "node:assert/strict";
import { test } from "node:test";
import { dumpobj, type DumpobjField, type DumpobjResult } from "../../src/commands/sos/dumpobj.js";
import { printexception, type PrintexceptionResult } from "../../src/commands/sos/printexception.js";

const field = (f: Partial<DumpobjField> & Pick<DumpobjField, "name" | "kind" | "value">): DumpobjField => ({
  offset: 8, token: "0x4000055", methodTable: "0x7fdc23865250", type: "System.Double", isValueType: true, attr: "instance", ...f,
});

const object = (r: Partial<DumpobjResult>): DumpobjResult => ({
  address: "0x7fd04900c680", name: "Scenarios.FieldKinds", methodTable: "0x7fdc23fa91b0", eeClass: "0x7fdc23f90000", size: 88,
  file: "/app/scenarios.dll", isFree: false, fields: [], fieldsSource: "dac", fieldsNote: "", ...r,
});

test("dumpobj renders SOS's header and each value format of DisplayDataMember", () => {
  const fields: DumpobjField[] = [
    field({ name: "Ratio", offset: 0x18, kind: "float", value: "3.25" }),
    field({ name: "Huge", kind: "float", value: "1e+22" }),
    field({ name: "NotANumber", kind: "float", value: "NaN" }),
    field({ name: "Minus", kind: "float", value: "-Infinity" }),
    field({ name: "Letter", offset: 0x3c, type: "System.Char", kind: "char", value: "66" }),
    field({ name: "Yes", type: "System.Boolean", kind: "bool", value: "true" }),
    field({ name: "Long", type: "System.Int64", kind: "int", value: "-123456789012" }),
    field({ name: "Native", type: "System.IntPtr", kind: "pointer", value: "0x7fdc23fb3138" }),
    field({ name: "Text", type: "System.String", isValueType: false, kind: "ref", value: "0x7fdc20201c58", string: "not shown" }),
    field({ name: "Where", type: "Scenarios.Coord", kind: "struct", value: "0x7fd04900c6c8" }),
    field({ name: "Comparer", type: "System.Collections.Generic.IEqualityComparer`1[[System.String, System.Private.CoreLib]]", isValueType: false, kind: "ref", value: "0x0" }),
    field({ name: "NotYet", type: "System.Int32", attr: "static", kind: "unallocated", value: "" }),
    field({ name: "s_emptyArray", type: "System.__Canon[]", isValueType: false, attr: "static", kind: "unavailable", value: "", dynamicStatics: true }),
    field({
      name: "t_currentTask", type: "System.Threading.Tasks.Task", isValueType: false, attr: "TLstatic", kind: "perThread", value: "", offset: 0x10,
      threadValues: [{ osThreadId: 0xb78, kind: "ref", value: "0x0" }, { osThreadId: 0x1f, kind: "int", value: "-5" }],
    }),
  ];
  assert.equal(dumpobj.render(object({ fields })), [
    "Name:        Scenarios.FieldKinds",
    "MethodTable: 00007fdc23fa91b0",
    "Size:        88(0x58) bytes",
    "File:        /app/scenarios.dll",
    "Fields:",
    "              MT    Field   Offset                 Type   VT     Attr            Value Name",
    "00007fdc23865250 04000055       18        System.Double  Yes instance 3.250000 Ratio",
    "00007fdc23865250 04000055        8        System.Double  Yes instance 10000000000000000000000.000000 Huge",
    "00007fdc23865250 04000055        8        System.Double  Yes instance nan NotANumber",
    "00007fdc23865250 04000055        8        System.Double  Yes instance -inf Minus",
    "00007fdc23865250 04000055       3c          System.Char  Yes instance               42 Letter",
    "00007fdc23865250 04000055        8       System.Boolean  Yes instance                1 Yes",
    "00007fdc23865250 04000055        8         System.Int64  Yes instance    -123456789012 Long",
    "00007fdc23865250 04000055        8        System.IntPtr  Yes instance 00007FDC23FB3138 Native",
    "00007fdc23865250 04000055        8        System.String   No instance 00007fdc20201c58 Text",
    "00007fdc23865250 04000055        8      Scenarios.Coord  Yes instance 00007fd04900c6c8 Where",
    "00007fdc23865250 04000055        8 ...Private.CoreLib]]   No instance 0000000000000000 Comparer",
    "00007fdc23865250 04000055        8         System.Int32  Yes   static                  NotYet",
    "00007fdc23865250 04000055        8     System.__Canon[]   No   static dynamic statics NYI <no information>",
    "00007fdc23865250 04000055       10 ...eading.Tasks.Task   No TLstatic  t_currentTask",
    "    Thread static values (Thread:Value)",
    "        b78:0000000000000000",
    "        1f:-5",
    "",
  ].join("\n"));
});

test("dumpobj renders arrays (Array and Content lines, no File), strings, RuntimeTypes, -nofields and free objects as SOS", () => {
  const array = object({
    name: "System.Byte[]", size: 27, fields: [],
    array: { rank: 1, length: 3, elementTypeHandle: "0x7fdc23850000", elementType: "System.Byte", elementKind: 0x05, content: ".A." },
  });
  assert.equal(dumpobj.render(array), [
    "Name:        System.Byte[]", "MethodTable: 00007fdc23fa91b0", "Size:        27(0x1b) bytes",
    "Array:       Rank 1, Number of elements 3, Type Byte", "Content:     .A.", "Fields:", "None",
  ].join("\n"));
  const grid = object({ name: "System.Int32[,]", size: 64, array: { rank: 2, length: 6, elementTypeHandle: "0x1", elementType: "System.Int32", elementKind: 0x08 } });
  assert.match(dumpobj.render(grid), /^Array: {7}Rank 2, Number of elements 6, Type Int32\nFields:\nNone$/m);
  const strings = object({ name: "System.String[]", array: { rank: 1, length: 7, elementTypeHandle: "0x1", elementType: "System.String", elementKind: 0x12 } });
  assert.match(dumpobj.render(strings), /Type CLASS\n/);

  const type = object({ name: "System.RuntimeType", size: 40, runtimeType: { methodTable: "0x7fdc23fa91b0", name: "Scenarios.FieldKinds" } });
  assert.deepEqual(dumpobj.render(type).split("\n").slice(2, 6), [
    "Size:        40(0x28) bytes", "Type Name:   Scenarios.FieldKinds", "Type MT:     00007fdc23fa91b0", "File:        /app/scenarios.dll",
  ]);
  assert.match(dumpobj.render(object({ name: "System.RuntimeType", runtimeType: { typeDesc: "0x7fdc23fa91b0" } })), /\nTypeDesc: {4}00007FDC23FA91B0\n/);

  const text = object({ name: "System.String", size: 22, string: "", fields: [], noFields: true });
  assert.equal(dumpobj.render(text), ["Name:        System.String", "MethodTable: 00007fdc23fa91b0", "Size:        22(0x16) bytes", "File:        /app/scenarios.dll", "String:      "].join("\n"));

  assert.equal(dumpobj.render(object({ isFree: true, size: 24 })), "Free Object\nSize:        24(0x18) bytes");
  const cut = object({ fields: [field({ name: "Ratio", kind: "float", value: "0.5" })], fieldsFailure: "GetFieldDescData failed" });
  assert.match(dumpobj.render(cut), / 0\.500000 Ratio\nUnable to display fields$/);
});

test("printexception renders SOS's FormatException lines: %p inner address, <none> stack trace, StackTraceString's blank line, %lx HResult", () => {
  const base: PrintexceptionResult = {
    address: "0x7fd04900c750", type: "Scenarios.CodedFailure", message: "coded-failure-message",
    innerException: { address: "0x7fd04900c6d8", type: "System.InvalidOperationException" },
    stackTrace: null, stackTraceString: null, remoteStackTraceString: "not shown", hResult: "80131500", backend: "contracts",
  };
  assert.equal(printexception.render(base), [
    "Exception object: 00007fd04900c750",
    "Exception type:   Scenarios.CodedFailure",
    "Message:          coded-failure-message",
    "InnerException:   System.InvalidOperationException, Use printexception 00007FD04900C6D8 to see more.",
    "StackTrace (generated):",
    "<none>",
    "StackTraceString: <none>",
    "HResult: 80131500",
  ].join("\n"));
  const thrown = printexception.render({
    ...base, message: null, innerException: null, stackTraceString: "   at Program.Main()", hResult: "00000001",
    stackTrace: { address: "0x7fd04900c7d0", type: "System.SByte[]", decoded: false },
  }).split("\n");
  assert.deepEqual(thrown.slice(2, 4), ["Message:          <none>", "InnerException:   <none>"]);
  assert.deepEqual(thrown.slice(6), ["", "StackTraceString:    at Program.Main()", "", "HResult: 1"]);
});
