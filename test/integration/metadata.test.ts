// clrscope's PE/metadata reader against System.Reflection.Metadata (the metadata oracle,
// test/targets/metadata-oracle) on real assemblies: the hello test app, the oracle's own dll
// (generics, EH clauses, pointers, varargs...), and System.Private.CoreLib (ReadyToRun, large),
// System.Runtime (a facade of forwarders) and System.Collections from the shared framework.
// Every compared field must be equal. Type names are also checked against the runtime's own
// TypeString output (Type.FullName), which is what the DAC prints for MethodTables.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decodeInstructions, operandText, parseMethodBody } from "../../src/metadata/il.js";
import { MetadataReader } from "../../src/metadata/metadata.js";
import { openPeFile, type PeImage } from "../../src/metadata/pe.js";
import {
  decodeFieldSig,
  decodeMethodSig,
  decodeMethodSpec,
  decodePropertySig,
  decodeStandAloneSig,
  decodeTypeSpec,
  formatMethodSignature,
  formatSignature,
  canonicalTypeName,
} from "../../src/metadata/signatures.js";
import { COL, T, token, tokenRid } from "../../src/metadata/tables.js";
import { clrmdTypeName, dacNameToClrmd, dacTypeName, findTypeByName, type RuntimeType } from "../../src/metadata/type-names.js";
import { buildDotnetTarget, hasDotnet } from "../support/dotnet-fixtures.js";
import { metadataOracleDll, runMetadataOracle, sharedFrameworkDir, type OracleOutput, type Row } from "../support/metadata-oracle.js";

const dotnet = hasDotnet();
const framework = dotnet ? sharedFrameworkDir() : undefined;

interface Subject {
  name: string;
  path: () => string;
  il: "all" | "sample";
}

const SUBJECTS: Subject[] = [
  { name: "hello.dll", path: () => buildDotnetTarget("hello"), il: "all" },
  { name: "metadata-oracle.dll", path: () => metadataOracleDll(), il: "all" },
  { name: "System.Private.CoreLib.dll", path: () => join(framework!, "System.Private.CoreLib.dll"), il: "sample" },
  { name: "System.Runtime.dll", path: () => join(framework!, "System.Runtime.dll"), il: "all" },
  { name: "System.Collections.dll", path: () => join(framework!, "System.Collections.dll"), il: "sample" },
];

/** Row lists must be equal; on a difference, name the first differing row instead of dumping all. */
function assertRows(what: string, ours: Row[], theirs: Row[]): void {
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    assert.deepStrictEqual(ours[i], theirs[i], `${what}: row ${i} differs`);
  }
  assert.equal(ours.length, theirs.length, `${what}: row count`);
}

/** A token, or 0 for a nil (row 0) token, as System.Reflection.Metadata reports nil handles. */
const nz = (tok: number): number => (tokenRid(tok) === 0 ? 0 : tok);

function rows(md: MetadataReader, table: number): number[] {
  return Array.from({ length: md.rowCount(table) }, (_, i) => i + 1);
}

function tryText(f: () => string): string {
  try {
    return f();
  } catch {
    return "!error";
  }
}

/** System.Reflection.Metadata reports #Strings without its alignment padding (one NUL kept). */
function trimmedSize(heap: Uint8Array): number {
  let i = heap.length - 1;
  while (i >= 0 && heap[i] === 0) i--;
  return i === heap.length - 1 ? heap.length : i + 2;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Accessor token of a property/event with this semantics flag (the last row wins, as in SRM). */
function accessor(md: MetadataReader, association: number, flag: number): number {
  let out = 0;
  for (const r of md.semantics(association)) {
    if (md.cell(T.MethodSemantics, r, COL.MethodSemantics.Semantics) === flag) out = token(T.MethodDef, md.cell(T.MethodSemantics, r, COL.MethodSemantics.Method));
  }
  return out;
}

for (const subject of SUBJECTS) {
  describe(`metadata of ${subject.name} vs System.Reflection.Metadata`, { skip: !dotnet || !framework ? "no dotnet SDK" : false }, () => {
    let cache: { oracle: OracleOutput; pe: PeImage; md: MetadataReader } | undefined;
    const load = (): { oracle: OracleOutput; pe: PeImage; md: MetadataReader } => {
      if (cache) return cache;
      const path = subject.path();
      assert.ok(existsSync(path), path);
      const oracle = runMetadataOracle(path, { il: subject.il, reflect: true });
      const pe = openPeFile(path);
      cache = { oracle, pe, md: MetadataReader.fromPe(pe) };
      return cache;
    };

    it("PE headers, sections, CLI header, debug directory, ReadyToRun", () => {
      const { oracle, pe } = load();
      const o = oracle.pe;
      const cor = pe.cor20!;
      assert.deepStrictEqual(
        {
          machine: pe.machine,
          timeDateStamp: pe.timeDateStamp,
          characteristics: pe.characteristics,
          pe32Plus: pe.is64,
          imageBase: `0x${pe.imageBase.toString(16)}`,
          sizeOfImage: pe.sizeOfImage,
          sizeOfHeaders: pe.sizeOfHeaders,
          sectionAlignment: pe.sectionAlignment,
          fileAlignment: pe.fileAlignment,
          subsystem: pe.subsystem,
          dllCharacteristics: pe.dllCharacteristics,
          checkSum: pe.checkSum,
          sections: pe.sections.map((s) => [s.name, s.virtualAddress, s.virtualSize, s.pointerToRawData, s.sizeOfRawData, s.characteristics]),
          corFlags: cor.flags,
          runtimeVersion: cor.majorRuntimeVersion * 100 + cor.minorRuntimeVersion,
          entryPoint: cor.entryPoint,
          metadataRva: cor.metadata.rva,
          metadataSize: cor.metadata.size,
          metadataOffset: pe.rvaToOffset(cor.metadata.rva)!.offset,
          managedNativeHeaderRva: cor.managedNativeHeader.rva,
          readyToRun: pe.readyToRun() !== undefined,
          debug: pe.debugEntries().map((e) => {
            const base = { type: e.type, stamp: e.timeDateStamp, major: e.majorVersion, minor: e.minorVersion, size: e.sizeOfData, rva: e.addressOfRawData, pointer: e.pointerToRawData };
            if (e.type !== 2) return base;
            const cv = pe.codeViews().find(() => true)!;
            return { ...base, guid: cv.guid, age: cv.age, path: cv.path, portable: cv.portable };
          }),
        },
        o,
      );
      assert.match(pe.symbolKey, /^[0-9A-F]{8}[0-9a-f]+$/);
    });

    it("metadata root, row counts, row sizes and heap sizes", () => {
      const { oracle, md } = load();
      assert.equal(md.version, oracle.metadata.version);
      assert.deepStrictEqual(Array.from(md.rowCounts.subarray(0, 0x2d)), oracle.metadata.rowCounts);
      assert.deepStrictEqual(Array.from(md.rowSizes.subarray(0, 0x2d)), oracle.metadata.rowSizes);
      assert.deepStrictEqual(
        { strings: trimmedSize(md.bytes.subarray(md.strings.start, md.strings.start + md.strings.size)), blob: md.blobs.size, guid: md.guids.size, userString: md.userStrings.size },
        oracle.metadata.heapSizes,
      );
      assert.deepStrictEqual({ name: md.moduleName(), mvid: md.moduleMvid() }, oracle.module);
      if (oracle.assembly) {
        const c = COL.Assembly;
        assert.deepStrictEqual(
          {
            name: md.assemblyName(),
            version: md.assemblyVersion(),
            culture: md.string(md.cell(T.Assembly, 1, c.Culture)),
            flags: md.cell(T.Assembly, 1, c.Flags),
            publicKeyLength: md.blob(md.cell(T.Assembly, 1, c.PublicKey)).length,
          },
          oracle.assembly,
        );
      }
    });

    it("AssemblyRefs, TypeRefs and ModuleRefs", () => {
      const { oracle, md } = load();
      assertRows("assemblyRefs", rows(md, T.AssemblyRef).map((r) => [token(T.AssemblyRef, r), md.assemblyRefName(r), md.assemblyRefVersion(r), md.cell(T.AssemblyRef, r, COL.AssemblyRef.Flags)]), oracle.assemblyRefs);
      assertRows(
        "typeRefs",
        rows(md, T.TypeRef).map((r) => [token(T.TypeRef, r), md.typeRefScope(r), md.typeRefNamespace(r), md.typeRefName(r), canonicalTypeName(md, token(T.TypeRef, r))]),
        oracle.typeRefs,
      );
      assertRows("moduleRefs", rows(md, T.ModuleRef).map((r) => [token(T.ModuleRef, r), md.moduleRefName(r)]), oracle.moduleRefs);
    });

    it("TypeDefs: names, flags, base types, nesting, member lists, layout, interfaces", () => {
      const { oracle, md } = load();
      const ours = rows(md, T.TypeDef).map((r) => {
        const layout = md.classLayout(r);
        const outer = md.enclosingType(r);
        return [
          token(T.TypeDef, r),
          md.typeDefNamespace(r),
          md.typeDefName(r),
          md.typeDefFlags(r),
          md.typeDefExtends(r),
          outer ? token(T.TypeDef, outer) : 0,
          md.fields(r),
          md.methods(r),
          layout ? layout.packingSize : -1,
          layout ? layout.classSize : -1,
          md.interfaceImpls(r).map((i) => md.codedCell(T.InterfaceImpl, i, COL.InterfaceImpl.Interface)),
          md.nestedTypes(r),
          canonicalTypeName(md, token(T.TypeDef, r)),
        ];
      });
      assertRows("typeDefs", ours, oracle.typeDefs);
    });

    it("Fields with signatures, offsets, RVAs and declaring types", () => {
      const { oracle, md } = load();
      const ours = rows(md, T.Field).map((r) => [
        token(T.Field, r),
        md.fieldName(r),
        md.fieldFlags(r),
        tryText(() => formatSignature(md, decodeFieldSig(md.fieldSignature(r)))),
        md.fieldOffset(r) ?? -1,
        md.fieldRva(r) ?? 0,
        md.typeOfField(r),
      ]);
      assertRows("fields", ours, oracle.fields);
    });

    it("MethodDefs with signatures, parameters, declaring types and P/Invoke imports", () => {
      const { oracle, md } = load();
      const ours = rows(md, T.MethodDef).map((r) => {
        const imp = md.implMap(r);
        return [
          token(T.MethodDef, r),
          md.methodName(r),
          md.methodRva(r),
          md.methodImplFlags(r),
          md.methodFlags(r),
          tryText(() => formatMethodSignature(md, decodeMethodSig(md.methodSignature(r)))),
          md.params(r),
          md.typeOfMethod(r),
          imp ? `${imp.importName}@${md.moduleRefName(imp.moduleRef)}#${imp.flags}` : "",
        ];
      });
      assertRows("methodDefs", ours, oracle.methodDefs);
      assertRows(
        "params",
        rows(md, T.Param).map((r) => [token(T.Param, r), md.paramSequence(r), md.cell(T.Param, r, COL.Param.Flags), md.paramName(r)]),
        oracle.params,
      );
    });

    it("MemberRefs, TypeSpecs, MethodSpecs and StandAloneSigs", () => {
      const { oracle, md } = load();
      assertRows(
        "memberRefs",
        rows(md, T.MemberRef).map((r) => {
          const sig = md.memberRefSignature(r);
          const text = tryText(() => ((sig[0]! & 0x0f) === 6 ? formatSignature(md, decodeFieldSig(sig)) : formatMethodSignature(md, decodeMethodSig(sig))));
          return [token(T.MemberRef, r), md.memberRefParent(r), md.memberRefName(r), text];
        }),
        oracle.memberRefs,
      );
      assertRows("typeSpecs", rows(md, T.TypeSpec).map((r) => [token(T.TypeSpec, r), tryText(() => formatSignature(md, decodeTypeSpec(md.typeSpecSignature(r))))]), oracle.typeSpecs);
      assertRows(
        "methodSpecs",
        rows(md, T.MethodSpec).map((r) => [
          token(T.MethodSpec, r),
          md.methodSpecMethod(r),
          tryText(() => decodeMethodSpec(md.methodSpecInstantiation(r)).map((t) => formatSignature(md, t)).join(",")),
        ]),
        oracle.methodSpecs,
      );
      assertRows(
        "standAloneSigs",
        rows(md, T.StandAloneSig).map((r) => [
          token(T.StandAloneSig, r),
          tryText(() => {
            const s = decodeStandAloneSig(md.standAloneSignature(r));
            return "locals" in s ? `locals(${s.locals.map((t) => formatSignature(md, t)).join(",")})` : formatMethodSignature(md, s.method);
          }),
        ]),
        oracle.standAloneSigs,
      );
    });

    it("Properties, Events, CustomAttributes, Constants, MethodImpls, GenericParams, ExportedTypes", () => {
      const { oracle, md } = load();
      assertRows(
        "properties",
        rows(md, T.Property).map((r) => {
          const tok = token(T.Property, r);
          return [
            tok,
            md.string(md.cell(T.Property, r, COL.Property.Name)),
            md.cell(T.Property, r, COL.Property.Flags),
            tryText(() => formatMethodSignature(md, decodePropertySig(md.blob(md.cell(T.Property, r, COL.Property.Type))))),
            accessor(md, tok, 0x2),
            accessor(md, tok, 0x1),
          ];
        }),
        oracle.properties,
      );
      assertRows(
        "events",
        rows(md, T.Event).map((r) => {
          const tok = token(T.Event, r);
          return [tok, md.string(md.cell(T.Event, r, COL.Event.Name)), nz(md.codedCell(T.Event, r, COL.Event.EventType)), accessor(md, tok, 0x8), accessor(md, tok, 0x10), accessor(md, tok, 0x20)];
        }),
        oracle.events,
      );
      assertRows(
        "customAttributes",
        rows(md, T.CustomAttribute).map((r) => [
          token(T.CustomAttribute, r),
          md.codedCell(T.CustomAttribute, r, COL.CustomAttribute.Parent),
          md.codedCell(T.CustomAttribute, r, COL.CustomAttribute.Type),
          md.blob(md.cell(T.CustomAttribute, r, COL.CustomAttribute.Value)).length,
        ]),
        oracle.customAttributes,
      );
      assertRows(
        "constants",
        rows(md, T.Constant).map((r) => [
          token(T.Constant, r),
          md.cell(T.Constant, r, COL.Constant.Type),
          md.codedCell(T.Constant, r, COL.Constant.Parent),
          hex(md.blob(md.cell(T.Constant, r, COL.Constant.Value))),
        ]),
        oracle.constants,
      );
      assertRows(
        "methodImpls",
        rows(md, T.MethodImpl).map((r) => [
          token(T.MethodImpl, r),
          token(T.TypeDef, md.cell(T.MethodImpl, r, COL.MethodImpl.Class)),
          md.codedCell(T.MethodImpl, r, COL.MethodImpl.MethodBody),
          md.codedCell(T.MethodImpl, r, COL.MethodImpl.MethodDeclaration),
        ]),
        oracle.methodImpls,
      );
      assertRows(
        "genericParams",
        rows(md, T.GenericParam).map((r) => [
          token(T.GenericParam, r),
          md.codedCell(T.GenericParam, r, COL.GenericParam.Owner),
          md.cell(T.GenericParam, r, COL.GenericParam.Number),
          md.cell(T.GenericParam, r, COL.GenericParam.Flags),
          md.genericParamName(r),
          md.findRows(T.GenericParamConstraint, COL.GenericParamConstraint.Owner, r).map((c) => md.codedCell(T.GenericParamConstraint, c, COL.GenericParamConstraint.Constraint)),
        ]),
        oracle.genericParams,
      );
      assertRows(
        "exportedTypes",
        rows(md, T.ExportedType).map((r) => [
          token(T.ExportedType, r),
          md.string(md.cell(T.ExportedType, r, COL.ExportedType.Namespace)),
          md.string(md.cell(T.ExportedType, r, COL.ExportedType.Name)),
          nz(md.codedCell(T.ExportedType, r, COL.ExportedType.Implementation)),
          md.cell(T.ExportedType, r, COL.ExportedType.Flags),
        ]),
        oracle.exportedTypes,
      );
    });

    it("#US user strings", () => {
      const { oracle, md } = load();
      const ours = md.userStrings.offsets().map((o) => [o, md.userStrings.get(o)] as [number, string]);
      assertRows("userStrings", ours, oracle.userStrings);
    });

    it("IL method bodies: headers, code, exception regions and instructions", () => {
      const { oracle, pe, md } = load();
      const withIl = rows(md, T.MethodDef).filter((r) => md.methodRva(r) !== 0).length;
      assert.ok(oracle.bodies.length > 0 || withIl === 0);
      for (const ob of oracle.bodies) {
        const rid = tokenRid(ob.token);
        assert.equal(md.methodRva(rid), ob.rva);
        const at = pe.rvaToOffset(ob.rva)!;
        const body = parseMethodBody(pe.readRva(ob.rva, at.available, "method body"), `method 0x${ob.token.toString(16)}`);
        const where = `${md.methodName(rid)} (0x${ob.token.toString(16)})`;
        assert.deepStrictEqual(
          { size: body.totalSize, maxStack: body.maxStack, localSig: body.localVarSigToken, initLocals: body.initLocals, il: hex(body.code) },
          { size: ob.size, maxStack: ob.maxStack, localSig: ob.localSig, initLocals: ob.initLocals, il: ob.il },
          where,
        );
        assert.deepStrictEqual(
          body.clauses.map((c) => [c.flags, c.tryOffset, c.tryLength, c.handlerOffset, c.handlerLength, c.classToken, c.kind === "filter" ? c.filterOffset : -1]),
          ob.regions,
          `${where}: exception regions`,
        );
        assert.deepStrictEqual(
          decodeInstructions(body.code).map((i) => [i.offset, i.opcode.name, operandText(i)]),
          ob.instructions,
          `${where}: instructions`,
        );
      }
    });

    it("TypeDef names as the runtime prints them (Type.FullName = DAC TypeString)", () => {
      const { oracle, md } = load();
      assert.ok(oracle.typeNames, oracle.reflectionError);
      let compared = 0;
      for (const [tok, name] of oracle.typeNames!) {
        if (name === null) continue;
        assert.equal(dacTypeName({ kind: "named", md, token: tok }), name, `TypeDef 0x${tok.toString(16)}`);
        assert.equal(findTypeByName(md, name), tokenRid(tok), `lookup of ${name}`);
        compared++;
      }
      assert.ok(compared >= Math.min(1, md.rowCount(T.TypeDef) - 1));
    });
  });
}

describe("constructed type names vs the runtime (Type.FullName) and ClrMD's form", { skip: !dotnet || !framework ? "no dotnet SDK" : false }, () => {
  it("closed and open generics, nested generics, arrays, pointers, byrefs", () => {
    const corelibPath = join(framework!, "System.Private.CoreLib.dll");
    const collectionsPath = join(framework!, "System.Collections.dll");
    const names = runMetadataOracle(corelibPath, { il: "sample", reflect: true }).constructedNames!;
    const cl = MetadataReader.fromPe(openPeFile(corelibPath));
    const co = MetadataReader.fromPe(openPeFile(collectionsPath));
    const named = (md: MetadataReader, name: string, args?: RuntimeType[]): RuntimeType => {
      const rid = findTypeByName(md, name);
      assert.ok(rid, name);
      return { kind: "named", md, token: token(T.TypeDef, rid), args };
    };
    const I4 = named(cl, "System.Int32");
    const S = named(cl, "System.String");
    const list = (a: RuntimeType): RuntimeType => named(cl, "System.Collections.Generic.List`1", [a]);
    const cases: Record<string, RuntimeType> = {
      "Dictionary<String,Int32>": named(cl, "System.Collections.Generic.Dictionary`2", [S, I4]),
      "Dictionary<String,Int32>+Enumerator": named(cl, "System.Collections.Generic.Dictionary`2+Enumerator", [S, I4]),
      "List<Int32[]>": list({ kind: "szarray", elem: I4 }),
      "List<Int32>[]": { kind: "szarray", elem: list(I4) },
      "KeyValuePair<String,List<Int32>>": named(cl, "System.Collections.Generic.KeyValuePair`2", [S, list(I4)]),
      "Int32[,]": { kind: "array", elem: I4, rank: 2 },
      "Int32[][]": { kind: "szarray", elem: { kind: "szarray", elem: I4 } },
      "Int32[*]": { kind: "array", elem: I4, rank: 1 },
      "Int32*": { kind: "ptr", elem: I4 },
      "Int32&": { kind: "byref", elem: I4 },
      "Nullable<Guid>": named(cl, "System.Nullable`1", [named(cl, "System.Guid")]),
      "Func<String,Boolean>": named(cl, "System.Func`2", [S, named(cl, "System.Boolean")]),
      "ValueTuple<Int32,ValueTuple<String>>": named(cl, "System.ValueTuple`2", [I4, named(cl, "System.ValueTuple`1", [S])]),
      "Stack<Int32>": named(co, "System.Collections.Generic.Stack`1", [I4]),
      "SortedDictionary<Int32,String>+KeyCollection": named(co, "System.Collections.Generic.SortedDictionary`2+KeyCollection", [I4, S]),
      "List<T>": named(cl, "System.Collections.Generic.List`1"),
      "Dictionary<TKey,TValue>+Enumerator": named(cl, "System.Collections.Generic.Dictionary`2+Enumerator"),
    };
    for (const [key, t] of Object.entries(cases)) {
      assert.equal(dacTypeName(t), names[key], key);
      assert.equal(clrmdTypeName(t), dacNameToClrmd(names[key]!), `${key} (ClrMD form)`);
    }
    assert.equal(Object.keys(names).filter((k) => !k.endsWith("@assembly")).length, Object.keys(cases).length, "every constructed type is checked");
  });

  it("opening System.Private.CoreLib's metadata and listing every TypeDef name takes well under 100 ms (warm)", () => {
    const corelibPath = join(framework!, "System.Private.CoreLib.dll");
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const md = MetadataReader.fromPe(openPeFile(corelibPath));
      count = 0;
      for (let r = 1; r <= md.rowCount(T.TypeDef); r++) count += dacTypeName({ kind: "named", md, token: token(T.TypeDef, r) }).length > 0 ? 1 : 0;
      times.push(performance.now() - t0);
    }
    const warm = Math.min(...times.slice(1));
    console.log(`# CoreLib: open + ${count} TypeDef names: cold ${times[0]!.toFixed(1)} ms, warm ${warm.toFixed(1)} ms`);
    assert.ok(warm < 100, `warm open + list took ${warm.toFixed(1)} ms`);
  });
});
