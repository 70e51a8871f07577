// Unit tests of src/metadata on synthetic images whose content is known by construction
// (test/support/metadata-oracle.ts writes them): PE layouts, heaps and index widths, Ptr tables,
// signatures, the three SOS type-name forms, IL bodies, and SOS dumpil text including its quirks.
// Expected strings are derived by hand from ECMA-335 and from how SOS/the runtime format names
// (sildasm.cpp, typestring.cpp, sigformat.cpp, ClrMD's DacNameParser tests), not from our output.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BufferByteSource } from "../../src/dump/byte-source.js";
import { ClrscopeError, CorruptDataError, UnsupportedFormatError } from "../../src/errors.js";
import { dumpIl, formatFixed, ilTokenText, prettyPrintClass } from "../../src/metadata/dumpil.js";
import { readCompressed } from "../../src/metadata/heaps.js";
import { decodeInstruction, decodeInstructions, parseMethodBody } from "../../src/metadata/il.js";
import { MetadataReader } from "../../src/metadata/metadata.js";
import { ONE_BYTE, TWO_BYTE } from "../../src/metadata/opcodes.js";
import { PeImage, pdbSymbolKey } from "../../src/metadata/pe.js";
import {
  decodeFieldSig,
  decodeLocalSig,
  decodeMethodSig,
  decodeMethodSpec,
  decodePropertySig,
  decodeTypeSpec,
  formatMethodSignature,
  formatSignature,
} from "../../src/metadata/signatures.js";
import { COL, T, token, tokenRid, tokenTable } from "../../src/metadata/tables.js";
import { clrmdTypeName, dacMethodName, dacNameToClrmd, dacTypeName, findTypeByName, sigFormatParams, sigFormatType, type RuntimeType } from "../../src/metadata/type-names.js";
import { CODE_RVA, fatBody, LONG_TYPE_NAME, sampleAssembly, SAMPLE_STRINGS, toMappedLayout, writeMetadata, writePe, type SynthMetadata } from "../support/metadata-oracle.js";

const sample = sampleAssembly();
const open = (bytes: Uint8Array, layout: "file" | "mapped" = "file"): PeImage => new PeImage(new BufferByteSource(bytes), layout, "sample.dll");
const pe = open(sample.file);
const md = MetadataReader.fromPe(pe);
const b = (...x: number[]): Uint8Array => Uint8Array.from(x);
const body = (rid: number, image = pe): ReturnType<typeof parseMethodBody> => {
  const rva = md.methodRva(rid);
  return parseMethodBody(image.readRva(rva, image.rvaToOffset(rva)!.available, "body"));
};

describe("PE images", () => {
  it("reads headers, the CLI header, CodeView and ReadyToRun facts (file layout)", () => {
    assert.equal(pe.machine, 0x14c);
    assert.equal(pe.is64, false);
    assert.equal(pe.imageBase, 0x400000n);
    assert.equal(pe.sections.length, 1);
    assert.equal(pe.sections[0]!.name, ".text");
    assert.equal(pe.sizeOfImage, 0x4000);
    assert.equal(pe.symbolKey, "5F0000004000");
    assert.ok(pe.isManaged);
    assert.deepStrictEqual(pe.codeView(), { guid: "04030201-0605-0807-090a-0b0c0d0e0f10", age: 3, path: "/src/sample.pdb", portable: true });
    assert.equal(pdbSymbolKey(pe.codeView()!), "040302010605080709 0a0b0c0d0e0f10FFFFFFFF".replace(" ", ""));
    assert.equal(pdbSymbolKey({ ...pe.codeView()!, portable: false, age: 10 }), "0403020106050807090a0b0c0d0e0f10A");
    assert.deepStrictEqual(pe.readyToRun(), { majorVersion: 9, minorVersion: 2, flags: 0 });
    assert.deepStrictEqual(pe.rvaToOffset(0x10), { offset: 0x10, available: 0x200 - 0x10 }, "headers map 1:1");
    assert.equal(pe.rvaToOffset(0x3ff0), undefined, "zero-fill beyond the raw data");
  });

  it("gives the same answers over the mapped layout (RVA == offset)", () => {
    const mappedBytes = toMappedLayout(sample.file);
    assert.equal(PeImage.detectLayout(new BufferByteSource(mappedBytes)), "mapped");
    assert.equal(PeImage.detectLayout(new BufferByteSource(sample.file)), "file");
    const mapped = open(mappedBytes, "mapped");
    assert.deepStrictEqual(mapped.codeView(), pe.codeView());
    assert.deepStrictEqual(mapped.readyToRun(), pe.readyToRun());
    assert.deepStrictEqual(mapped.metadataBytes(), pe.metadataBytes());
    const m2 = MetadataReader.fromPe(mapped);
    assert.equal(m2.typeDefName(2), "Program");
    assert.deepStrictEqual(body(2, mapped).clauses, body(2).clauses);
  });

  it("reads PE32+ images", () => {
    const p = open(sampleAssembly({ is64: true }).file);
    assert.equal(p.is64, true);
    assert.equal(p.machine, 0x8664);
    assert.equal(p.imageBase, 0x180000000n);
    assert.equal(MetadataReader.fromPe(p).assemblyName(), "sample");
  });

  it("rejects what is not a PE, and damage, with typed errors", () => {
    assert.throws(() => open(new Uint8Array(0)), UnsupportedFormatError);
    assert.throws(() => open(b(0x4d, 0x5a, ...new Array(100).fill(0))), UnsupportedFormatError);
    assert.throws(() => open(new TextEncoder().encode("#!/bin/sh\n".repeat(20))), UnsupportedFormatError);
    const cut = sample.file.slice(0, 0x300);
    assert.throws(() => MetadataReader.fromPe(open(cut)), CorruptDataError);
    // No CLI header: a native image.
    const native = sample.file.slice();
    const lfanew = new DataView(native.buffer).getUint32(0x3c, true);
    new DataView(native.buffer).setUint32(lfanew + 24 + 96 + 14 * 8 + 4, 0, true);
    const n = open(native);
    assert.equal(n.isManaged, false);
    assert.throws(() => n.metadataBytes(), UnsupportedFormatError);
  });
});

describe("metadata tables and heaps", () => {
  it("reads rows, names, heaps and tokens", () => {
    assert.equal(md.version, "v4.0.30319");
    assert.equal(md.tablesStreamName, "#~");
    assert.equal(md.moduleName(), "sample.dll");
    assert.equal(md.moduleMvid(), "13121110-1514-1716-1819-1a1b1c1d1e1f");
    assert.equal(md.assemblyName(), "sample");
    assert.equal(md.assemblyVersion(), "1.2.3.4");
    assert.equal(md.assemblyRefName(1), "System.Runtime");
    assert.equal(md.assemblyRefVersion(1), "10.0.0.0");
    assert.equal(md.rowCount(T.TypeDef), 5);
    assert.equal(md.typeDefName(4), "Generic`1");
    assert.equal(md.typeDefNamespace(4), "Sample.App");
    assert.equal(md.typeDefExtends(2), token(T.TypeRef, 1));
    assert.equal(md.typeDefExtends(1), 0);
    assert.equal(md.typeRefScope(4), token(T.TypeRef, 5));
    assert.equal(md.typeRefScope(1), token(T.AssemblyRef, 1));
    assert.equal(md.cell(T.Constant, 1, COL.Constant.Type), 0x08);
    assert.deepStrictEqual(md.row(T.MemberRef, 1), { Class: token(T.TypeRef, 3), Name: md.cell(T.MemberRef, 1, COL.MemberRef.Name), Signature: md.cell(T.MemberRef, 1, COL.MemberRef.Signature) });
    assert.deepStrictEqual(md.userStrings.offsets(), sample.metadata.userStringOffsets);
    assert.deepStrictEqual(md.userStrings.offsets().map((o) => md.userStrings.get(o)), SAMPLE_STRINGS);
    assert.equal(token(T.MethodDef, 5), 0x06000005);
    assert.equal(tokenTable(0x2b000001), T.MethodSpec);
    assert.equal(tokenRid(0x0a0000ff), 0xff);
    assert.ok(md.isValidToken(0x02000005));
    assert.ok(!md.isValidToken(0x02000006));
    assert.ok(!md.isValidToken(0x02000000));
    assert.throws(() => md.cell(T.TypeDef, 6, 0), CorruptDataError);
  });

  it("resolves member lists, owners, nesting and keyed lookups", () => {
    assert.deepStrictEqual(md.fields(2), [1, 2]);
    assert.deepStrictEqual(md.methods(2), [1, 2, 3]);
    assert.deepStrictEqual(md.methods(3), [4]);
    assert.deepStrictEqual(md.methods(4), [5]);
    assert.deepStrictEqual(md.methods(5), []);
    assert.deepStrictEqual(md.params(1), [1]);
    assert.deepStrictEqual(md.params(3), []);
    assert.equal(md.typeOfMethod(3), 2);
    assert.equal(md.typeOfMethod(5), 4);
    assert.equal(md.typeOfField(2), 2);
    assert.equal(md.methodOfParam(2), 2);
    assert.equal(md.enclosingType(3), 2);
    assert.equal(md.enclosingType(2), 0);
    assert.deepStrictEqual(md.nestedTypes(2), [3]);
    assert.equal(md.findTypeDef("Sample.App", "Program"), 2);
    assert.equal(md.findTypeDef("", "Nested+Odd,Name", 2), 3);
    assert.equal(findTypeByName(md, "Sample.App.Program+Nested\\+Odd\\,Name"), 3);
    assert.deepStrictEqual(md.genericParams(token(T.TypeDef, 4)), [1]);
    assert.deepStrictEqual(md.genericParams(token(T.MethodDef, 5)), [2]);
    assert.deepStrictEqual(md.customAttributes(token(T.TypeDef, 2)), [1]);
    assert.equal(md.constantOf(token(T.Field, 1)), 1);
    assert.equal(md.constantOf(token(T.Field, 2)), undefined);
  });

  it("gives the same answers with 4-byte heap indexes", () => {
    for (const wide of [1, 2, 4, 7]) {
      const m = MetadataReader.fromPe(open(sampleAssembly({ wideHeaps: wide }).file));
      assert.equal(m.heapSizes, wide);
      assert.equal(m.typeDefName(5), LONG_TYPE_NAME);
      assert.equal(m.moduleMvid(), md.moduleMvid());
      assert.equal(formatMethodSignature(m, decodeMethodSig(m.methodSignature(5))), "generic(1) !!0(!!0)");
      assert.equal(m.rowSizes[T.TypeDef]! > md.rowSizes[T.TypeDef]!, (wide & 1) !== 0, "#Strings indexes");
      assert.equal(m.rowSizes[T.Module]! - md.rowSizes[T.Module]!, (wide & 1 ? 2 : 0) + (wide & 2 ? 6 : 0), "#Strings and #GUID indexes");
      assert.equal(m.rowSizes[T.StandAloneSig]! > md.rowSizes[T.StandAloneSig]!, (wide & 4) !== 0, "#Blob indexes");
    }
  });

  it("widens simple and coded indexes past 2^16 and 2^14 rows", () => {
    const typeRefs = Array.from({ length: 0x4000 }, (_, i): (number | string)[] => [token(T.AssemblyRef, 1), i === 0x3fff ? "Last" : "T", "N"]);
    const m = new MetadataReader(
      writeMetadata({
        tables: {
          Module: [[0, "big", 1, 0, 0]],
          TypeRef: typeRefs,
          TypeDef: [[0, "X", "", token(T.TypeRef, 0x4000), 1, 1]],
          AssemblyRef: [[1, 0, 0, 0, 0, b(), "A", "", b()]],
          Field: Array.from({ length: 0x10000 }, () => [0, "f", b(6, 8)]),
        },
      }).bytes,
    );
    assert.equal(m.rowSizes[T.TypeDef], 4 + 2 + 2 + 4 + 4 + 2, "TypeDefOrRef and FieldList are 4 bytes wide");
    assert.equal(m.typeDefExtends(1), token(T.TypeRef, 0x4000));
    assert.equal(m.typeRefName(0x4000), "Last");
    assert.equal(m.heapSizes, 0);
    assert.equal(m.fields(1).length, 0x10000);
  });

  it("follows Ptr tables of uncompressed (#-) metadata", () => {
    const m = new MetadataReader(
      writeMetadata({
        tablesStream: "#-",
        tables: {
          TypeDef: [
            [0, "A", "", token(T.TypeDef, 0), 1, 1],
            [0, "B", "", token(T.TypeDef, 0), 2, 2],
          ],
          // Method list positions 1 and 2 map to MethodDef rows 3 and 1; position 3 to row 2.
          MethodPtr: [[3], [1], [2]],
          MethodDef: [
            [0, 0, 0, "one", b(0, 0, 1), 1],
            [0, 0, 0, "two", b(0, 0, 1), 1],
            [0, 0, 0, "three", b(0, 0, 1), 1],
          ],
          FieldPtr: [[2], [1]],
          Field: [
            [0, "f1", b(6, 8)],
            [0, "f2", b(6, 8)],
          ],
        },
      }).bytes,
    );
    assert.equal(m.tablesStreamName, "#-");
    assert.deepStrictEqual(m.methods(1), [3]);
    assert.deepStrictEqual(m.methods(2), [1, 2]);
    assert.equal(m.typeOfMethod(3), 1);
    assert.equal(m.typeOfMethod(1), 2);
    assert.deepStrictEqual(m.fields(1), [2]);
    assert.equal(m.typeOfField(1), 2);
  });

  it("searches unsorted tables by scanning", () => {
    const spec: SynthMetadata = {
      sorted: 0n,
      tables: {
        TypeDef: [[0, "A", "", token(T.TypeDef, 0), 1, 1]],
        CustomAttribute: [
          [token(T.TypeDef, 1), token(T.MethodDef, 1), b()],
          [token(T.Field, 1), token(T.MethodDef, 1), b()],
          [token(T.TypeDef, 1), token(T.MethodDef, 1), b()],
        ],
        MethodDef: [[0, 0, 0, ".ctor", b(0x20, 0, 1), 1]],
        Field: [[0, "f", b(6, 8)]],
      },
    };
    const m = new MetadataReader(writeMetadata(spec).bytes);
    assert.ok(!m.isSorted(T.CustomAttribute));
    assert.deepStrictEqual(m.customAttributes(token(T.TypeDef, 1)), [1, 3]);
  });

  it("reports damage as CorruptDataError and foreign formats as UnsupportedFormatError", () => {
    const good = writeMetadata({ tables: { TypeDef: [[0, "A", "", token(T.TypeDef, 0), 1, 1]] } }).bytes;
    assert.throws(() => new MetadataReader(good.slice(0, 10)), CorruptDataError);
    const notBsjb = good.slice();
    notBsjb[0] = 0;
    assert.throws(() => new MetadataReader(notBsjb), UnsupportedFormatError);
    // Find the #~ stream and damage its header.
    const m = new MetadataReader(good);
    const ts = m.streams.find((s) => s.name === "#~")!;
    const bigRows = good.slice();
    new DataView(bigRows.buffer).setUint32(ts.offset + 24, 0x100000, true);
    assert.throws(() => new MetadataReader(bigRows), CorruptDataError);
    const unknown = good.slice();
    unknown[ts.offset + 8 + 5] |= 0x20; // valid bit 45 (0x2D): no such ECMA-335 table
    assert.throws(() => new MetadataReader(unknown), UnsupportedFormatError);
    assert.throws(() => md.decodeCoded("CustomAttributeType", 0), CorruptDataError);
    assert.throws(() => md.blobs.get(md.blobs.size + 5), CorruptDataError);
    assert.throws(() => md.strings.get(md.strings.size), CorruptDataError);
    assert.throws(() => md.guids.get(2), CorruptDataError);
  });

  it("decodes compressed integers", () => {
    assert.deepStrictEqual(readCompressed(b(0x03), 0, 1, "x"), { value: 3, size: 1 });
    assert.deepStrictEqual(readCompressed(b(0x80, 0x80), 0, 2, "x"), { value: 0x80, size: 2 });
    assert.deepStrictEqual(readCompressed(b(0xbf, 0xff), 0, 2, "x"), { value: 0x3fff, size: 2 });
    assert.deepStrictEqual(readCompressed(b(0xc0, 0x00, 0x40, 0x00), 0, 4, "x"), { value: 0x4000, size: 4 });
    assert.deepStrictEqual(readCompressed(b(0xdf, 0xff, 0xff, 0xff), 0, 4, "x"), { value: 0x1fffffff, size: 4 });
    assert.throws(() => readCompressed(b(0xe0), 0, 1, "x"), CorruptDataError);
    assert.throws(() => readCompressed(b(0x80), 0, 1, "x"), CorruptDataError);
    assert.throws(() => readCompressed(b(), 0, 0, "x"), CorruptDataError);
  });
});

describe("signatures", () => {
  const method = (...x: number[]): string => formatMethodSignature(md, decodeMethodSig(b(...x)));
  const field = (...x: number[]): string => formatSignature(md, decodeFieldSig(b(...x)));
  it("decodes and formats method, field, local, property, type and method specs", () => {
    assert.equal(method(0x20, 0x02, 0x01, 0x08, 0x0e), "instance void(int32,string)");
    assert.equal(method(0x30, 0x01, 0x01, 0x1e, 0x00, 0x13, 0x00), "instance generic(1) !!0(!0)");
    assert.equal(method(0x05, 0x02, 0x08, 0x08, 0x41, 0x0e), "vararg int32(int32,...,string)");
    assert.equal(method(0x60, 0x00, 0x01), "instance explicit void()");
    assert.equal(method(0x02, 0x00, 0x18), "unmanaged stdcall native int()");
    assert.equal(field(0x06, 0x14, 0x08, 0x02, 0x01, 0x05, 0x02, 0x01, 0x7f), "int32[-64:5,-1:]");
    assert.equal(field(0x06, 0x14, 0x08, 0x02, 0x00, 0x02, 0x00, 0x00), "int32[0:,0:]");
    assert.equal(field(0x06, 0x1b, 0x00, 0x01, 0x08, 0x08), "method int32(int32)");
    assert.equal(field(0x06, 0x1f, (6 << 2) | 1, 0x08), "int32 modreq([System.Runtime]System.Runtime.CompilerServices.IsVolatile)");
    assert.equal(field(0x06, 0x20, (6 << 2) | 1, 0x0f, 0x01), "void* modopt([System.Runtime]System.Runtime.CompilerServices.IsVolatile)");
    assert.equal(field(0x06, 0x12, (2 << 2) | 0), "class Sample.App.Program");
    assert.equal(field(0x06, 0x12, (3 << 2) | 0), "class Sample.App.Program/Nested+Odd,Name");
    assert.equal(field(0x06, 0x15, 0x11, (4 << 2) | 1, 0x01, 0x0e), "valuetype [System.Runtime]System.Outer/Inner<string>");
    assert.equal(field(0x06, 0x12, (1 << 2) | 2), "class class Sample.App.Generic`1<int32>");
    assert.deepStrictEqual(decodeLocalSig(b(0x07, 0x02, 0x08, 0x45, 0x10, 0x08)).map((t) => formatSignature(md, t)), ["int32", "int32& pinned"]);
    assert.equal(formatMethodSignature(md, decodePropertySig(b(0x28, 0x00, 0x08))), "instance int32()");
    assert.equal(formatSignature(md, decodeTypeSpec(b(0x1d, 0x1d, 0x1c))), "object[][]");
    assert.deepStrictEqual(decodeMethodSpec(b(0x0a, 0x02, 0x08, 0x1d, 0x0e)).map((t) => formatSignature(md, t)), ["int32", "string[]"]);
  });

  it("rejects damaged signatures with CorruptDataError", () => {
    const bad: number[][] = [
      [],
      [0x20, 0x05, 0x01],
      [0x20],
      [0x06],
      [0x06, 0x99],
      [0x06, 0x15, 0x08, 0x01, 0x08],
      [0x06, 0x15, 0x12, 0x08, 0x00],
      [0x06, 0x12, 0x03],
      [0x06, 0x14, 0x08, 0xdf, 0xff, 0xff, 0xff, 0x00, 0x00],
      [0x08, 0x00, 0x01],
      [0x05, 0x02, 0x41, 0x08, 0x41, 0x08],
      [0x06, ...new Array(300).fill(0x1d), 0x08],
    ];
    for (const x of bad) {
      assert.throws(() => (x[0] === 0x06 ? decodeFieldSig(b(...x)) : decodeMethodSig(b(...x))), CorruptDataError, x.join(","));
    }
    assert.throws(() => decodeLocalSig(b(0x06, 0x00)), CorruptDataError);
    assert.throws(() => decodeMethodSpec(b(0x07, 0x01, 0x08)), CorruptDataError);
  });
});

describe("type names as SOS prints them", () => {
  const named = (rid: number, args?: RuntimeType[], assembly?: string): RuntimeType => ({ kind: "named", md, token: token(T.TypeDef, rid), args, assembly });
  const I4: RuntimeType = { kind: "prim", et: 0x08 };
  const S: RuntimeType = { kind: "prim", et: 0x0e };
  const T0: RuntimeType = { kind: "var", index: 0, name: "T" };

  it("DAC form (TypeString: namespace, '+', escapes, full instantiation)", () => {
    assert.equal(dacTypeName(named(2)), "Sample.App.Program");
    assert.equal(dacTypeName(named(3)), "Sample.App.Program+Nested\\+Odd\\,Name");
    assert.equal(dacTypeName(named(4)), "Sample.App.Generic`1");
    assert.equal(dacTypeName(named(4, [named(2)])), "Sample.App.Generic`1[[Sample.App.Program, sample]]");
    assert.equal(dacTypeName(named(4, [I4])), "Sample.App.Generic`1[[System.Int32, System.Private.CoreLib]]");
    assert.equal(dacTypeName(named(4, [T0])), "Sample.App.Generic`1[T]");
    assert.equal(dacTypeName(named(4, [named(4, [S])])), "Sample.App.Generic`1[[Sample.App.Generic`1[[System.String, System.Private.CoreLib]], sample]]");
    assert.equal(dacTypeName(named(4, [{ kind: "szarray", elem: named(3) }])), "Sample.App.Generic`1[[Sample.App.Program+Nested\\+Odd\\,Name[], sample]]");
    assert.equal(dacTypeName(named(4, [named(2, undefined, "odd]asm")])), "Sample.App.Generic`1[[Sample.App.Program, odd\\]asm]]");
    assert.equal(dacTypeName({ kind: "array", elem: I4, rank: 3 }), "System.Int32[,,]");
    assert.equal(dacTypeName({ kind: "array", elem: I4, rank: 1 }), "System.Int32[*]");
    assert.equal(dacTypeName({ kind: "byref", elem: { kind: "ptr", elem: I4 } }), "System.Int32*&");
    assert.equal(dacTypeName({ kind: "named", md, token: token(T.TypeRef, 4) }), "System.Outer+Inner");
    assert.equal(dacTypeName({ kind: "named", md, token: token(T.TypeRef, 4), args: [I4] }), "System.Outer+Inner[[System.Int32, System.Private.CoreLib]]");
  });

  it("DAC method form (TypeString + SigFormat), as clrstack prints frames", () => {
    assert.equal(dacMethodName(named(2), md, 1), "Sample.App.Program.Main(System.String[])");
    assert.equal(dacMethodName(named(2), md, 2), "Sample.App.Program.Handlers(Int32)");
    assert.equal(dacMethodName(named(2), md, 3), "Sample.App.Program.VarArgs(Int32, ...)");
    assert.equal(
      dacMethodName(named(4, [S]), md, 5, [I4]),
      "Sample.App.Generic`1[[System.String, System.Private.CoreLib]].Id[[System.Int32, System.Private.CoreLib]](Int32)",
    );
    assert.equal(dacMethodName(named(4), md, 5), "Sample.App.Generic`1.Id(U)", "a generic method definition prints its parameter names");
    assert.equal(sigFormatParams(md, decodeMethodSig(b(0x00, 0x03, 0x01, 0x10, 0x08, 0x1c, 0x0f, 0x0d))), "(Int32 ByRef, System.Object, Double*)");
    const ctx = { classInst: [named(2)], methodInst: [named(4, [I4])] };
    assert.equal(sigFormatParams(md, decodeMethodSig(b(0x30, 0x01, 0x02, 0x01, 0x13, 0x00, 0x1e, 0x00)), ctx), "(Sample.App.Program, Sample.App.Generic`1<Int32>)");
    assert.equal(sigFormatType(md, decodeTypeSpec(b(0x15, 0x12, 4 << 2, 0x01, 0x08)), {}, 0), "Sample.App.Generic`1<Int32>");
    assert.equal(sigFormatType(md, decodeTypeSpec(b(0x14, 0x08, 0x02, 0x00, 0x00)), {}, 0), "Int32[,]");
    assert.equal(sigFormatType(md, decodeTypeSpec(b(0x12, (3 << 2) | 0)), {}, 0), "Nested+Odd,Name", "no enclosing type, no escaping");
    assert.equal(sigFormatType(md, decodeFieldSig(b(0x06, 0x1f, (6 << 2) | 1, 0x08)), {}, 0), "Int32", "custom modifiers are skipped");
    assert.equal(sigFormatType(md, decodeTypeSpec(b(0x13, 0x01)), {}, 0), "!1");
    // Methods without metadata (DynamicMethods): primitives format, token-named types cannot.
    assert.equal(sigFormatParams(undefined, decodeMethodSig(b(0x00, 0x02, 0x01, 0x08, 0x0f, 0x05))), "(Int32, Byte*)");
    assert.equal(sigFormatParams(undefined, decodeMethodSig(b(0x00, 0x01, 0x01, 0x12, (2 << 2) | 0))), "(**UNKNOWN TYPE**)");
    // ELEMENT_TYPE_INTERNAL: a runtime TypeHandle, named through the context (SigFormat's AddType: no enclosing type).
    const internal = decodeMethodSig(b(0x00, 0x02, 0x01, 0x21, 0x10, 0x32, 0x54, 0x76, 0x98, 0x7f, 0, 0, 0x08));
    assert.deepEqual(internal.params[0], { kind: "internal", typeHandle: 0x7f9876543210 });
    assert.equal(sigFormatParams(undefined, internal, { typeHandle: (h) => (h === 0x7f9876543210 ? named(3) : undefined) }), "(Nested+Odd,Name, Int32)");
    assert.equal(sigFormatParams(undefined, internal), "(**UNKNOWN TYPE**, Int32)");
    assert.throws(() => decodeMethodSig(b(0x00, 0x01, 0x01, 0x21, 0x10, 0x32)), CorruptDataError);
  });

  it("ClrMD form (dumpheap -stat class names)", () => {
    assert.equal(clrmdTypeName(named(4, [named(2)])), "Sample.App.Generic<Sample.App.Program>");
    assert.equal(clrmdTypeName(named(4)), "Sample.App.Generic<T1>");
    assert.equal(clrmdTypeName({ kind: "szarray", elem: named(4, [I4]) }), "Sample.App.Generic<System.Int32>[]");
    // Vectors from ClrMD's DacNameParser tests (expected outputs are ClrMD's).
    const vectors: [string, string][] = [
      ["System.String", "System.String"],
      ["Test.Foo+Bar", "Test.Foo+Bar"],
      ["System.String[,,,]", "System.String[,,,]"],
      ["System.Collections.Generic.IList`1[[JetBrains.ReSharper.Psi.Files.CommitBuildResults, JetBrains.ReSharper.Psi]][][]", "System.Collections.Generic.IList<JetBrains.ReSharper.Psi.Files.CommitBuildResults>[][]"],
      ["Test.Foo`2", "Test.Foo<T1, T2>"],
      ["System.Lazy`1+Boxed[[Microsoft.CodeAnalysis.Options.IDocumentOptionsProviderFactory, Microsoft.CodeAnalysis.Workspaces]]", "System.Lazy<Microsoft.CodeAnalysis.Options.IDocumentOptionsProviderFactory>+Boxed"],
      [
        "System.Collections.Generic.Dictionary`2[[Microsoft.VisualStudio.Threading.WeakKeyDictionary`2+WeakReference`1[[Microsoft.VisualStudio.Threading.IJoinableTaskDependent, Microsoft.VisualStudio.Threading],[System.Int32, mscorlib],[Microsoft.VisualStudio.Threading.IJoinableTaskDependent, Microsoft.VisualStudio.Threading]], Microsoft.VisualStudio.Threading],[System.Int32, mscorlib]]",
        "System.Collections.Generic.Dictionary<Microsoft.VisualStudio.Threading.WeakKeyDictionary<Microsoft.VisualStudio.Threading.IJoinableTaskDependent, System.Int32>+WeakReference<Microsoft.VisualStudio.Threading.IJoinableTaskDependent>, System.Int32>",
      ],
      ["JetBrains.Threading.Actor`1+<>c__DisplayClass15_0+<<-ctor>b__0>d[[System.Boolean, mscorlib]]", "JetBrains.Threading.Actor<System.Boolean>+<>c__DisplayClass15_0+<<-ctor>b__0>d"],
      ["System.ValueTuple`3[[System.String, mscorlib],TCheapVersion,TExpensiveVersion]", "System.ValueTuple<System.String, TCheapVersion, TExpensiveVersion>"],
      ["System.Collections.Generic.Dictionary`2[[System.String, mscorlib],[System.Object[,,], mscorlib]]", "System.Collections.Generic.Dictionary<System.String, System.Object[,,]>"],
      ["System.Collections.Generic.Dictionary`2[[System.String, mscorlib],TFoo[][]]", "System.Collections.Generic.Dictionary<System.String, TFoo[][]>"],
      ["System.Collections.Generic.Dictionary`2+Entry[[System.Int32, mscorlib],[System.Collections.Generic.Stack`1[[System.Type[], mscorlib]], System]][]", "System.Collections.Generic.Dictionary<System.Int32, System.Collections.Generic.Stack<System.Type[]>>+Entry[]"],
      ["Microsoft.TeamFoundation.Git.Contracts.PathTable`1+PathTableRow`1[[System.String, mscorlib],[System.String, mscorlib]][]", "Microsoft.TeamFoundation.Git.Contracts.PathTable<System.String>+PathTableRow<System.String>[]"],
      ["StructureMap.Pipeline.ExpressedInstance`3[[StructureMap.Pipeline.LambdaInstance`2, EnforceHttpsModule],T,TPluginType]", "StructureMap.Pipeline.ExpressedInstance<StructureMap.Pipeline.LambdaInstance<T1, T2>, T, TPluginType>"],
      ["FSharp.Compiler.TypedTreeBasics+loop@444-39T[a]", "FSharp.Compiler.TypedTreeBasics+loop@444-39T<a>"],
      ["Microsoft.FSharp.Collections.ArrayModule+Parallel+sortingFunc@2439-1[TKey,[TSomeFoo, TFakeAssembly]]", "Microsoft.FSharp.Collections.ArrayModule+Parallel+sortingFunc@2439-1<TKey, TSomeFoo>"],
      ["a37[[akx, yWorks.yFilesWPF.Viewer]]", "a37<akx>"],
      ["System.Func`2[[<>f__AnonymousType12`2[[<>f__AnonymousType10`2[[System.Reflection.ConstructorInfo, mscorlib],[System.Reflection.ParameterInfo[], mscorlib]], Microsoft.VisualStudio.Composition],[System.Reflection.TypeInfo, mscorlib]], Microsoft.VisualStudio.Composition],[System.Reflection.ConstructorInfo, mscorlib]]", "System.Func<<>f__AnonymousType12<<>f__AnonymousType10<System.Reflection.ConstructorInfo, System.Reflection.ParameterInfo[]>, System.Reflection.TypeInfo>, System.Reflection.ConstructorInfo>"],
    ];
    for (const [input, expected] of vectors) assert.equal(dacNameToClrmd(input), expected, input);
    assert.equal(dacNameToClrmd("Broken`1[[X, A]"), "Broken`1[[X, A]", "unparsable names come back unchanged");
  });
});

describe("IL method bodies", () => {
  it("parses tiny and fat headers and small and fat exception sections alike", () => {
    const tiny = body(5);
    assert.deepStrictEqual([tiny.fat, tiny.codeSize, tiny.maxStack, tiny.totalSize], [false, 2, 8, 3]);
    const main = body(1);
    assert.deepStrictEqual([main.fat, main.initLocals, main.localVarSigToken, main.clauses.length], [true, true, 0x11000001, 0]);
    const h = body(2);
    assert.deepStrictEqual(
      h.clauses.map((c) => [c.kind, c.tryOffset, c.tryLength, c.handlerOffset, c.handlerLength, c.classToken, c.filterOffset]),
      [
        ["catch", 1, 4, 5, 3, 0x01000002, 0],
        ["finally", 1, 7, 8, 2, 0, 0],
        ["fault", 10, 2, 12, 2, 0, 0],
        ["filter", 14, 2, 20, 3, 0, 16],
      ],
    );
    assert.equal(h.totalSize, 12 + 0x18 + 4 + 4 * 12);
    const fat = sampleAssembly({ fatClauses: true });
    const p2 = open(fat.file);
    const hf = parseMethodBody(p2.readRva(fat.methodRva[2]!, 0x200, "body"));
    assert.deepStrictEqual(hf.clauses, h.clauses);
    assert.equal(hf.totalSize, 12 + 0x18 + 4 + 4 * 24);
  });

  it("reads every extra data section but marks the first EH section's clauses", () => {
    const code = [0x00, 0x00, 0x2a];
    const bytes = fatBody(code, { clauses: [[2, 0, 1, 1, 1, 0]] });
    bytes[11] = 0; // header size stays 3 dwords
    const at = bytes.length - 16;
    bytes[at] = 0x81; // EH table, more sections follow
    bytes.push(0x01, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // a second small EH section, one catch clause
    const parsed = parseMethodBody(Uint8Array.from(bytes));
    assert.equal(parsed.clauses.length, 2);
    assert.equal(parsed.firstSectionClauseCount, 1);
  });

  it("rejects damaged bodies and instructions with CorruptDataError", () => {
    assert.throws(() => parseMethodBody(b(0x00)), CorruptDataError);
    assert.throws(() => parseMethodBody(b((10 << 2) | 2, 0x00)), CorruptDataError);
    assert.throws(() => parseMethodBody(b(0x03, 0x10, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00)), CorruptDataError, "header of 4 bytes");
    assert.throws(() => parseMethodBody(Uint8Array.from(fatBody([0x2a, 0, 0, 0], { clauses: [[0, 0, 1, 1, 1, 0]] }).slice(0, 20))), CorruptDataError);
    const tinySection = fatBody([0x2a], { clauses: [[0, 0, 1, 1, 1, 0]] });
    tinySection[17] = 2; // DataSize below the 4-byte section header
    assert.throws(() => parseMethodBody(Uint8Array.from(tinySection)), CorruptDataError);
    assert.throws(() => decodeInstruction(b(0x28, 0x01), 0), CorruptDataError);
    assert.throws(() => decodeInstruction(b(0xfe), 0), CorruptDataError);
    assert.throws(() => decodeInstruction(b(0x45, 0xff, 0xff, 0xff, 0x0f), 0), CorruptDataError);
  });

  it("decodes operands (branch targets absolute, switch tables, 64-bit and float constants)", () => {
    const ins = decodeInstructions(b(0x2b, 0xfe, 0x45, 0x02, 0, 0, 0, 0x01, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x21, 1, 0, 0, 0, 0, 0, 0, 0x80, 0x22, 0, 0, 0xc0, 0x3f, 0xfe, 0x0c, 0x05, 0x00));
    assert.deepStrictEqual(
      ins.map((i) => [i.offset, i.opcode.name, i.operand]),
      [
        [0, "br.s", 0],
        [2, "switch", [16, 13]],
        [15, "ldc.i8", -0x7fffffffffffffffn],
        [24, "ldc.r4", 1.5],
        [29, "ldloc", 5],
      ],
    );
  });

  it("has the ECMA-335 opcode table", () => {
    assert.deepStrictEqual([ONE_BYTE[0x28]!.name, ONE_BYTE[0x28]!.operand], ["call", "InlineMethod"]);
    assert.deepStrictEqual([TWO_BYTE[0x06]!.name, TWO_BYTE[0x06]!.operand], ["ldftn", "InlineMethod"]);
    assert.deepStrictEqual([TWO_BYTE[0x16]!.name, TWO_BYTE[0x16]!.operand], ["constrained.", "InlineType"]);
    assert.equal(ONE_BYTE[0x24]!.name, "unused");
    assert.equal(ONE_BYTE.filter((o) => o.name !== "unused").length, 0xe1 - 1 - 2 - 13 - 7 - 2 - 9 + 8, "one-byte opcodes (0x00-0xE0 minus gaps, plus prefixes)");
    assert.equal(TWO_BYTE.filter((o) => o.name !== "unused").length, 0x1f - 3);
  });
});

describe("SOS dumpil text", () => {
  it("prints tokens, constants and strings as SOS does, quirks included", () => {
    assert.deepStrictEqual(dumpIl(md, body(1)), [
      'IL_0000: ldstr "hello"',
      "IL_0005: call void System.Console::WriteLine(string)",
      "IL_000a: ldc.i4.s 255",
      "IL_000c: pop ",
      "IL_000d: ldsfld Sample.App.Program::s_count",
      "IL_0012: ldsfld  class [*]Sample.App.Generic`1<int32>::Value",
      "IL_0017: pop ",
      "IL_0018: pop ",
      `IL_0019: ldstr "${"a".repeat(79)}..."`,
      "IL_001e: pop ",
      `IL_001f: ldstr "${"b".repeat(79)}..."`,
      "IL_0024: pop ",
      `IL_0025: ldstr STRING ${(0x70000000 + sample.metadata.userStringOffsets[3]!).toString(16)}`,
      "IL_002a: pop ",
      'IL_002b: ldstr "h.llo."',
      "IL_0030: pop ",
      "IL_0031: call <unknown token type 2b000000>",
      "IL_0036: pop ",
      `IL_0037: ldtoken ${`Sample.App.${LONG_TYPE_NAME}`.slice(0, 48)}`,
      "IL_003c: pop ",
      "IL_003d: ldtoken <unknown token type 1b000000>",
      "IL_0042: pop ",
      "IL_0043: ret ",
    ]);
  });

  it("marks try/catch/finally blocks as SOS does (fault and filter handlers show as .catch)", () => {
    assert.deepStrictEqual(dumpIl(md, body(2)), [
      "IL_0000: nop ",
      ".try",
      "{",
      "  .try",
      "  {",
      "    IL_0001: ldarg.0 ",
      "    IL_0002: pop ",
      "    IL_0003: leave.s IL_0017",
      "  } // end .try",
      "  .catch",
      "  {",
      "    IL_0005: pop ",
      "    IL_0006: leave.s IL_0017",
      "  } // end .catch",
      "} // end .try",
      ".finally",
      "{",
      "  IL_0008: nop ",
      "  IL_0009: endfinally ",
      "} // end .finally",
      ".try",
      "{",
      "  IL_000a: ldarg.0 ",
      "  IL_000b: pop ",
      "} // end .try",
      ".catch",
      "{",
      "  IL_000c: nop ",
      "  IL_000d: endfinally ",
      "} // end .catch",
      ".try",
      "{",
      "  IL_000e: ldarg.0 ",
      "  IL_000f: pop ",
      "} // end .try",
      "IL_0010: pop ",
      "IL_0011: ldc.i4.1 ",
      "IL_0012: endfilter ",
      ".catch",
      "{",
      "  IL_0014: pop ",
      "  IL_0015: br.s IL_0115",
      "} // end .catch",
      "IL_0017: ret ",
    ]);
  });

  it("prints vararg call sites as SOS does (sentinel shown, last argument dropped)", () => {
    assert.deepStrictEqual(dumpIl(md, body(3)), ["IL_0000: ldc.i4.1 ", 'IL_0001: ldstr "hello"', "IL_0006: call int32 <unknown type token>::VarArgs(int32,/* UNKNOWN TYPE (0x41)*/)", "IL_000b: ret "]);
  });

  it("prints correct values and full names when not exact", () => {
    const main = dumpIl(md, body(1), { exact: false });
    assert.equal(main[2], "IL_000a: ldc.i4.s -1");
    assert.equal(main[5], "IL_0012: ldsfld !0 class [*]Sample.App.Generic`1<int32>::Value");
    assert.equal(main[12], `IL_0025: ldstr "${"c".repeat(81)}"`);
    assert.equal(main[16], "IL_0031: call !!0 Sample.App.Generic`1::Id<string>(!!0)");
    assert.equal(main[18], `IL_0037: ldtoken Sample.App.${LONG_TYPE_NAME}`);
    assert.equal(main[20], "IL_003d: ldtoken class [*]Sample.App.Generic`1<int32>");
    const h = dumpIl(md, body(2), { exact: false });
    assert.deepStrictEqual(h.slice(25, 30), [".fault", "{", "  IL_000c: nop ", "  IL_000d: endfinally ", "} // end .fault"]);
    assert.deepStrictEqual(h.slice(35, 48), [".filter", "{", "  IL_0010: pop ", "  IL_0011: ldc.i4.1 ", "  IL_0012: endfilter ", "} // end .filter", ".catch", "{", "  IL_0014: pop ", "  IL_0015: br.s IL_0015", "} // end .catch", "IL_0017: ret "].slice(0, 13));
    assert.equal(dumpIl(md, body(3), { exact: false })[2], "IL_0006: call int32 <unknown type token>::VarArgs(int32,...,string)");
  });

  it("names classes and invalid tokens as SOS's PrettyPrintClass/DisassembleToken do", () => {
    assert.equal(prettyPrintClass(md, token(T.TypeRef, 4)), "[System.Runtime]System.Outer/Inner");
    assert.equal(prettyPrintClass(md, token(T.TypeDef, 3)), "[*]Sample.App.Program/Nested+Odd,Name");
    assert.equal(prettyPrintClass(md, 0), "[*]");
    assert.equal(prettyPrintClass(md, token(T.TypeDef, 99)), " [ERROR: INVALID TOKEN 0x02000063] ");
    assert.equal(ilTokenText(md, token(T.TypeDef, 99)), "<unknown type def>");
    assert.equal(ilTokenText(md, token(T.TypeDef, 3)), "Nested+Odd,Name");
    assert.equal(ilTokenText(md, 0x70ffffff), "STRING 70ffffff");
    assert.equal(ilTokenText(md, 0x11000001), "<unknown token type 11000000>");
    assert.equal(ilTokenText(md, token(T.MethodDef, 5)), "!!0 Sample.App.Generic`1::Id(!!0)");
    assert.equal(ilTokenText(md, token(T.MemberRef, 4)), "void System.Exception::.ctor()");
  });

  it("prints floating constants like C's %f", () => {
    assert.equal(formatFixed(3), "3.000000");
    assert.equal(formatFixed(-0), "-0.000000");
    assert.equal(formatFixed(0.1), "0.100000");
    assert.equal(formatFixed(5e-7), "0.000000");
    assert.equal(formatFixed(1e21), "1000000000000000000000.000000");
    assert.equal(formatFixed(3.4028234663852886e38), "340282346638528859811704183484516925440.000000");
    assert.equal(formatFixed(NaN), "nan");
    assert.equal(formatFixed(-Infinity), "-inf");
  });
});

describe("synthetic images are what the tests think they are", () => {
  it("round-trips a minimal image through writePe", () => {
    const meta = writeMetadata({ tables: { Module: [[0, "m", 1, 0, 0]] } });
    const p = open(writePe({ metadata: meta.bytes }));
    assert.equal(p.codeView(), undefined);
    assert.equal(p.readyToRun(), undefined);
    assert.equal(MetadataReader.fromPe(p).moduleName(), "m");
    assert.equal(CODE_RVA, 0x2100);
    assert.ok(new ClrscopeError("x", "y") instanceof Error);
  });
});
