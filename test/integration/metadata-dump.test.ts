// PE images read out of a real process's memory (a createdump full dump of test/targets/hello):
// the runtime maps an assembly flat (the file's bytes as they are: "file" layout) and, for
// ReadyToRun images such as System.Private.CoreLib, also as a loaded image (each section at its
// RVA: "mapped" layout). Both views must give the headers, the CodeView record and the metadata
// bytes of the file on disk, byte for byte.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AddressSpace } from "../../src/dump/address-space.js";
import { FileByteSource } from "../../src/dump/byte-source.js";
import { readCoreFile } from "../../src/dump/elf-core.js";
import { ClrscopeError } from "../../src/errors.js";
import { MetadataReader } from "../../src/metadata/metadata.js";
import { openPeFile, PeImage, type PeLayout } from "../../src/metadata/pe.js";
import { T, token } from "../../src/metadata/tables.js";
import { clrmdTypeName, dacMethodName, type RuntimeType } from "../../src/metadata/type-names.js";
import { clrmdOracle } from "../support/clrmd-oracle.js";
import { dotnetDump, hasDotnet } from "../support/dotnet-fixtures.js";

const noDotnet = hasDotnet() ? false : "no dotnet SDK on PATH";

describe("PE images in a .NET process's memory (createdump full dump of hello)", { skip: noDotnet, timeout: 900_000 }, () => {
  it("reads System.Private.CoreLib, hello.dll and System.Runtime.dll from memory in the layout the runtime used", () => {
    const d = dotnetDump("hello", "full");
    const core = readCoreFile(new FileByteSource(d.core));
    const space = new AddressSpace(core.source, core.segments);
    const views: string[] = [];
    for (const name of ["System.Private.CoreLib.dll", "hello.dll", "System.Runtime.dll"]) {
      const maps = core.files.filter((f) => f.path.endsWith(`/${name}`));
      assert.ok(maps.length > 0, `${name} is mapped`);
      const disk = openPeFile(maps[0]!.path);
      const diskMetadata = disk.metadataBytes();
      const found: PeLayout[] = [];
      for (const base of maps.filter((m) => m.fileOffset === 0).map((m) => m.start)) {
        for (const layout of ["file", "mapped"] as const) {
          let pe: PeImage;
          let metadata: Uint8Array;
          try {
            pe = new PeImage({ size: 2 ** 40, read: (o, l) => space.read(base + o, l) }, layout, `${name}@0x${base.toString(16)}`);
            metadata = pe.metadataBytes();
          } catch (e) {
            if (e instanceof ClrscopeError) continue; // the other layout, read at the wrong places
            throw e;
          }
          if (Buffer.compare(Buffer.from(metadata), Buffer.from(diskMetadata)) !== 0) continue;
          assert.deepStrictEqual(pe.codeView(), disk.codeView(), `${name} ${layout}`);
          assert.equal(pe.symbolKey, disk.symbolKey);
          assert.deepStrictEqual(pe.readyToRun(), disk.readyToRun());
          const md = MetadataReader.fromPe(pe);
          assert.equal(md.rowCount(T.TypeDef), MetadataReader.fromPe(disk).rowCount(T.TypeDef));
          const source = { size: 2 ** 40, read: (o: number, l: number) => space.tryRead(base + o, l) ?? new Uint8Array(0) };
          const detected = PeImage.detectLayout(source, name);
          // A loaded image whose sections sit at the same offsets in file and memory reads both ways.
          assert.ok(detected === layout || pe.sections.every((s) => s.virtualAddress === s.pointerToRawData), `${name}@0x${base.toString(16)}: detected ${detected}, works as ${layout}`);
          found.push(layout);
          views.push(`${name}: ${layout} @ 0x${base.toString(16)}`);
        }
      }
      assert.ok(found.includes("file"), `${name}: the flat mapping reads as the file layout`);
      if (disk.readyToRun()) assert.ok(found.includes("mapped"), `${name}: the loaded ReadyToRun image reads as the mapped layout`);
    }
    console.log(`# ${views.join("; ")}`);
  });

  it("names every non-generic method on the stacks as the DAC does (GetMethodDescName via ClrMD)", () => {
    const d = dotnetDump("hello", "full");
    const stacks = clrmdOracle(d.core, "stacks").result;
    const readers = new Map<string, MetadataReader>();
    let compared = 0;
    const skipped: string[] = [];
    for (const thread of stacks.threads) {
      for (const frame of thread.frames) {
        const m = frame.method;
        if (!m?.signature || !m.module) continue;
        let md = readers.get(m.module);
        if (!md) readers.set(m.module, (md = MetadataReader.fromPe(openPeFile(m.module))));
        const rid = Number(m.metadataToken) & 0xffffff;
        const owner = md.typeOfMethod(rid);
        if (md.genericParams(token(T.TypeDef, owner)).length > 0 || md.genericParams(token(T.MethodDef, rid)).length > 0) {
          skipped.push(m.signature); // needs the MethodTable's instantiation: the runtime layer's job
          continue;
        }
        const type: RuntimeType = { kind: "named", md, token: token(T.TypeDef, owner) };
        assert.equal(dacMethodName(type, md, rid), m.signature, `MethodDesc ${m.methodDesc}`);
        if (m.type) assert.equal(clrmdTypeName(type), m.type, `type of MethodDesc ${m.methodDesc}`);
        compared++;
      }
    }
    console.log(`# ${compared} frame methods compared, ${skipped.length} generic ones skipped`);
    assert.ok(compared >= 10, `only ${compared} methods compared`);
  });
});
