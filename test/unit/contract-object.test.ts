// The Object contract on a synthetic runtime with layouts, header size and tag mask unlike any
// real one: MethodTable tag bits, sizes of strings and arrays, string contents (capped), array
// data, System.Exception fields and the exception check along the parent chain (which must end on
// a cycle), and objects the dump or the descriptor cannot give.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorruptDataError, MemoryNotInDump } from "../../src/errors.js";
import { ObjectContract } from "../../src/runtime/contracts/object.js";
import { RuntimeTypeSystem, RuntimeTypeSystemDetails } from "../../src/runtime/contracts/runtime-type-system.js";
import { SyntheticRuntime } from "../support/descriptor-writer.js";

const HEADER = 0x18; // ObjectHeaderSize: not .NET's 8
const TAG_MASK = 0xf; // ObjectToMethodTableUnmask: low bits the runtime may tag

function objectRuntime() {
  const rt = new SyntheticRuntime();
  rt.type("MethodTable", ["MTFlags:u32", "BaseSize:u32", "MTFlags2:u32", "EEClassOrCanonMT", "Module", "ParentMethodTable", "NumInterfaces:u16", "NumVirtuals:u16", "PerInstInfo"], { start: 0x21 });
  rt.type("EEClass", ["MethodTable", "NumMethods:u16", "NumNonVirtualSlots:u16"]);
  rt.type("Object", ["m_pMethTab"], { start: 0x0 });
  rt.type("String", ["m_FirstChar:inline:2", "m_StringLength:u32"], { start: 0x9 });
  rt.type("Array", ["m_NumComponents:u32"], { start: 0xb, size: 0x1d });
  rt.type("Exception", ["_message", "_innerException", "_stackTrace", "_stackTraceString", "_remoteStackTraceString", "_HResult:i32", "_xcode:i32"], { start: 0x11 });
  rt.global("ObjectToMethodTableUnmask", TAG_MASK, "uint8");
  rt.global("ObjectHeaderSize", HEADER, "uint32");
  rt.contract("Object", 1);
  const mt = (flags: number, baseSize: number, parent = 0) => {
    const m = rt.alloc("MethodTable");
    const ee = rt.alloc("EEClass");
    rt.fill(m, "MethodTable", { MTFlags: flags, BaseSize: baseSize, EEClassOrCanonMT: ee, Module: 0x5a5a_0bad_0000, ParentMethodTable: parent });
    rt.set(ee, "EEClass", "MethodTable", m);
    return m;
  };
  const stringMt = mt(0x80000000 | 2, 0x2e);
  const intArrayMt = mt(0x80000000 | 0x000a0000 | 4, rt.size("Array") + HEADER);
  const objectMt = mt(0, 0x18);
  const exceptionMt = mt(0, 0x98, objectMt);
  const derivedMt = mt(0, 0xa0, exceptionMt);
  rt.set(intArrayMt, "MethodTable", "PerInstInfo", 0x5a5a_1111_0000); // the element TypeHandle
  rt.variable("StringMethodTable", stringMt);
  rt.variable("ExceptionMethodTable", exceptionMt);
  const contract = () => {
    const t = rt.target();
    return new ObjectContract(t, new RuntimeTypeSystemDetails(t, new RuntimeTypeSystem(t)));
  };
  return { rt, stringMt, intArrayMt, objectMt, exceptionMt, derivedMt, contract };
}

/** A string object: a tagged MethodTable pointer, its length and UTF-16 chars. */
function string(rt: SyntheticRuntime, mt: number, text: string, tag = 0): number {
  const o = rt.memory.alloc(rt.offset("String", "m_FirstChar") + text.length * 2 + 8, 8);
  rt.set(o, "Object", "m_pMethTab", mt + tag);
  rt.set(o, "String", "m_StringLength", text.length);
  for (let i = 0; i < text.length; i++) rt.memory.u16(rt.at(o, "String", "m_FirstChar") + i * 2, text.charCodeAt(i));
  return o;
}

describe("Object contract", () => {
  test("a string: its MethodTable with tag bits masked, size, length and contents (lone surrogates and controls kept as they are)", () => {
    const { rt, stringMt, contract } = objectRuntime();
    const text = "a\u0000\u001b[31m\ud800\u00e9";
    const o = string(rt, stringMt, text, 0xb);
    const c = contract();
    assert.equal(c.methodTableOf(o), stringMt);
    assert.deepEqual(c.info(o), { address: o, methodTable: stringMt, size: 0x2e + 2 * text.length, isString: true, isArray: false, isFree: false, components: text.length });
    assert.equal(c.stringValue(o), text);
    assert.equal(c.stringValue(o, 3), text.slice(0, 3), "the cap cuts the string");
    assert.ok(c.isStringMethodTable(stringMt));
    assert.deepEqual(c.stringLayout(), { lengthOffset: rt.offset("String", "m_StringLength"), firstCharOffset: rt.offset("String", "m_FirstChar") });
    assert.equal(c.stringValue(string(rt, stringMt, "")), "");
  });

  test("an array: length, element TypeHandle and where its data starts (base size less the object header)", () => {
    const { rt, intArrayMt, contract } = objectRuntime();
    const o = rt.memory.alloc(0x80, 8);
    rt.set(o, "Object", "m_pMethTab", intArrayMt);
    rt.set(o, "Array", "m_NumComponents", 5);
    const c = contract();
    assert.deepEqual(c.arrayInfo(o), { length: 5, rank: 1, elementTypeHandle: 0x5a5a_1111_0000, dataAddress: o + rt.size("Array") });
    assert.equal(c.info(o).size, rt.size("Array") + HEADER + 5 * 4);
    assert.equal(c.info(o).components, 5);
    assert.throws(() => c.arrayInfo(string(rt, objectRuntime().stringMt, "x")));
  });

  test("exceptions: derived types count, the descriptor's fields in offset order with their values", () => {
    const { rt, exceptionMt, derivedMt, objectMt, stringMt, contract } = objectRuntime();
    const c = contract();
    assert.ok(c.isException(exceptionMt) && c.isException(derivedMt) && !c.isException(objectMt));
    const message = string(rt, stringMt, "boom");
    const e = rt.memory.alloc(0xc0, 8);
    rt.set(e, "Object", "m_pMethTab", derivedMt);
    rt.fill(e, "Exception", { _message: message, _innerException: 0, _HResult: 0x80131500, _xcode: 0xe0434352 });
    const info = c.exception(e);
    assert.equal(info.message, message);
    assert.equal(info.hResult, 0x80131500 | 0);
    assert.deepEqual(info.fields.map((f) => f.name), [...rt.types.get("Exception")!.fields].sort((a, b) => a[1].offset - b[1].offset).map(([n]) => n));
    assert.deepEqual(info.fields.find((f) => f.name === "_xcode"), { name: "_xcode", offset: rt.offset("Exception", "_xcode"), kind: "int32", value: 0xe0434352 | 0 });
  });

  test("damage: a parent cycle ends the exception check; no MethodTable or an unreadable object is an error, not an answer", () => {
    const { rt, objectMt, contract } = objectRuntime();
    rt.set(objectMt, "MethodTable", "ParentMethodTable", objectMt);
    assert.equal(contract().isException(objectMt), false);
    const empty = rt.memory.alloc(0x20, 8);
    assert.throws(() => contract().info(empty), CorruptDataError);
    assert.throws(() => contract().info(0x5a5a_0f00_0000), MemoryNotInDump);
    // A MethodTable whose EEClass does not point back is not a valid one.
    const bogus = rt.alloc("MethodTable");
    rt.set(bogus, "MethodTable", "EEClassOrCanonMT", objectMt);
    rt.set(bogus, "MethodTable", "Module", 1);
    assert.equal(contract().isValidMethodTable(bogus), false);
    assert.equal(contract().isValidMethodTable(objectMt), true);
  });
});
