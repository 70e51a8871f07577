// Bounded property tests for src/metadata: truncated, mutated and random PE images, metadata,
// signatures and IL bodies must end in a ClrscopeError (or a result), never in a RangeError or
// TypeError from inside a parser, and never hang. Each property walks everything a command could
// ask of an image: headers, debug data, every table cell, names in all display forms, signatures,
// IL bodies and their dumpil text. Runs in workers under test/support/fuzz-harness.ts' watchdog;
// deterministic (fixed seeds). CLRSCOPE_FUZZ_RUNS / CLRSCOPE_FUZZ_SEED change depth and seed.
import fc from "fast-check";
import { BufferByteSource } from "../../src/dump/byte-source.js";
import { ClrscopeError } from "../../src/errors.js";
import { dumpIl, ilTokenText } from "../../src/metadata/dumpil.js";
import { decodeInstructions, parseMethodBody } from "../../src/metadata/il.js";
import { MetadataReader } from "../../src/metadata/metadata.js";
import { PeImage, pdbSymbolKey, type PeLayout } from "../../src/metadata/pe.js";
import {
  decodeFieldSig,
  decodeLocalSig,
  decodeMethodSig,
  decodeMethodSpec,
  decodePropertySig,
  decodeStandAloneSig,
  decodeTypeSpec,
  formatMethodSignature,
  formatSignature,
  canonicalTypeName,
} from "../../src/metadata/signatures.js";
import { COL, SCHEMA_BY_ID, T, token } from "../../src/metadata/tables.js";
import { clrmdTypeName, dacMethodName, dacNameToClrmd, dacTypeName, findTypeByName, sigFormatParams } from "../../src/metadata/type-names.js";
import { expectOnlyTypedErrors, fuzzSeed, fuzzSuite, mutated, noteInput } from "../support/fuzz-harness.js";
import { sampleAssembly, toMappedLayout } from "../support/metadata-oracle.js";

const SEED = fuzzSeed(0x3e7a_da7a);
/** ~200 runs per property by default (the brief's budget); CLRSCOPE_FUZZ_RUNS overrides. */
const RUNS = Number(process.env.CLRSCOPE_FUZZ_RUNS) || 200;
/** Work per input is capped so that one input stays far below the harness' slow-call limit. */
const MAX_ROWS = 48;

const KNOWN_BUGS: Record<string, string> = {};

/** Runs `f`, swallowing typed errors only: later steps still get exercised after a failed one. */
function soft<R>(f: () => R): R | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}

/** Everything a command could ask of an image. */
function exercise(bytes: Uint8Array, layout: PeLayout): void {
  noteInput(bytes);
  soft(() => PeImage.detectLayout(new BufferByteSource(bytes, "fuzz.dll")));
  const pe = new PeImage(new BufferByteSource(bytes, "fuzz.dll"), layout, "fuzz.dll");
  void pe.symbolKey;
  soft(() => pe.debugEntries());
  const cv = soft(() => pe.codeView());
  if (cv) pdbSymbolKey(cv);
  soft(() => pe.readyToRun());
  const md = MetadataReader.fromPe(pe);
  exerciseMetadata(md, pe);
}

function exerciseMetadata(md: MetadataReader, pe?: PeImage): void {
  soft(() => md.moduleName() + md.assemblyName() + md.assemblyVersion() + md.moduleMvid());
  for (let t = 0; t < 64; t++) {
    const cols = SCHEMA_BY_ID[t];
    if (!cols) continue;
    for (let r = 1; r <= Math.min(md.rowCount(t), MAX_ROWS); r++) {
      cols.forEach((c, i) => {
        soft(() => md.cell(t, r, i));
        if (typeof c === "object" && "coded" in c) soft(() => md.codedCell(t, r, i));
        if (c === "str") soft(() => md.string(md.cell(t, r, i)));
        if (c === "blob") soft(() => md.blob(md.cell(t, r, i)));
        if (c === "guid") soft(() => md.guids.get(md.cell(t, r, i)));
      });
    }
  }
  soft(() => md.userStrings.offsets().slice(0, MAX_ROWS).forEach((o) => md.userStrings.get(o)));
  for (let r = 1; r <= Math.min(md.rowCount(T.TypeDef), MAX_ROWS); r++) {
    const tok = token(T.TypeDef, r);
    soft(() => canonicalTypeName(md, tok));
    const dac = soft(() => dacTypeName({ kind: "named", md, token: tok, args: [{ kind: "prim", et: 0x08 }, { kind: "var", index: 0, name: "T" }] }));
    if (dac !== undefined) {
      dacNameToClrmd(dac);
      soft(() => findTypeByName(md, dac));
    }
    soft(() => clrmdTypeName({ kind: "named", md, token: tok }));
    soft(() => md.fields(r).slice(0, MAX_ROWS).map((f) => md.typeOfField(f)));
    soft(() => md.methods(r).slice(0, MAX_ROWS).map((m) => md.typeOfMethod(m)));
    soft(() => md.nestedTypes(r));
    soft(() => md.enclosingType(r));
    soft(() => md.genericParams(tok));
    soft(() => md.customAttributes(tok));
    soft(() => md.interfaceImpls(r));
    soft(() => md.classLayout(r));
    soft(() => md.properties(r));
    soft(() => md.events(r));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.TypeRef), MAX_ROWS); r++) {
    soft(() => canonicalTypeName(md, token(T.TypeRef, r)));
    soft(() => dacTypeName({ kind: "named", md, token: token(T.TypeRef, r) }));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.Field), MAX_ROWS); r++) {
    soft(() => formatSignature(md, decodeFieldSig(md.fieldSignature(r))));
    soft(() => md.fieldRva(r) ?? md.fieldOffset(r));
    soft(() => ilTokenText(md, token(T.Field, r)));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.MethodDef), MAX_ROWS); r++) {
    const sig = soft(() => decodeMethodSig(md.methodSignature(r)));
    if (sig) {
      soft(() => formatMethodSignature(md, sig));
      soft(() => sigFormatParams(md, sig));
      soft(() => dacMethodName({ kind: "named", md, token: token(T.TypeDef, Math.max(1, md.typeOfMethod(r))) }, md, r));
    }
    soft(() => md.params(r));
    soft(() => md.implMap(r));
    soft(() => ilTokenText(md, token(T.MethodDef, r)));
    soft(() => ilTokenText(md, token(T.MethodDef, r), false));
    if (pe) {
      soft(() => {
        const rva = md.methodRva(r);
        const at = pe.rvaToOffset(rva);
        if (!at || rva === 0) return;
        const body = parseMethodBody(pe.readRva(rva, Math.min(at.available, 1 << 16), "body"));
        soft(() => decodeInstructions(body.code));
        soft(() => dumpIl(md, body));
        soft(() => dumpIl(md, body, { exact: false }));
        soft(() => (body.localVarSigToken ? decodeStandAloneSig(md.standAloneSignature(body.localVarSigToken & 0xffffff)) : undefined));
      });
    }
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.MemberRef), MAX_ROWS); r++) {
    soft(() => ilTokenText(md, token(T.MemberRef, r)));
    soft(() => ilTokenText(md, token(T.MemberRef, r), false));
    soft(() => {
      const s = md.memberRefSignature(r);
      return (s[0]! & 0xf) === 6 ? formatSignature(md, decodeFieldSig(s)) : formatMethodSignature(md, decodeMethodSig(s));
    });
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.TypeSpec), MAX_ROWS); r++) {
    soft(() => formatSignature(md, decodeTypeSpec(md.typeSpecSignature(r))));
    soft(() => ilTokenText(md, token(T.TypeSpec, r), false));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.MethodSpec), MAX_ROWS); r++) {
    soft(() => decodeMethodSpec(md.methodSpecInstantiation(r)).map((t) => formatSignature(md, t)));
    soft(() => ilTokenText(md, token(T.MethodSpec, r), false));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.Property), MAX_ROWS); r++) {
    soft(() => formatMethodSignature(md, decodePropertySig(md.blob(md.cell(T.Property, r, COL.Property.Type)))));
  }
  for (let r = 1; r <= Math.min(md.rowCount(T.StandAloneSig), MAX_ROWS); r++) soft(() => decodeStandAloneSig(md.standAloneSignature(r)));
  for (const o of soft(() => md.userStrings.offsets().slice(0, 8)) ?? []) soft(() => ilTokenText(md, 0x70000000 + o));
}

// ---- inputs ------------------------------------------------------------------------------------

const variants = [sampleAssembly(), sampleAssembly({ is64: true, wideHeaps: 7, fatClauses: true })];
const files = variants.map((v) => v.file);
const mappedFiles = files.map(toMappedLayout);

/** Offsets of header fields, stream headers, table row counts and method headers: damage there matters most. */
function hotOffsets(file: Uint8Array): number[] {
  const pe = new PeImage(new BufferByteSource(file), "file");
  const md = MetadataReader.fromPe(pe);
  const mdAt = pe.rvaToOffset(pe.cor20!.metadata.rva)!.offset;
  const out = [0x3c, 0x80 + 6, 0x80 + 20, 0x98, 0x98 + 56, 0x98 + 60, 0x98 + 92, 0x98 + 108];
  const lfanew = 0x80;
  const opt = lfanew + 24;
  const dirs = opt + (pe.is64 ? 112 : 96);
  out.push(dirs + 6 * 8, dirs + 6 * 8 + 4, dirs + 14 * 8, dirs + 14 * 8 + 4);
  const sec = opt + (pe.is64 ? 240 : 224);
  out.push(sec + 8, sec + 12, sec + 16, sec + 20);
  const cli = pe.rvaToOffset(pe.dataDirectories[14]!.rva)!.offset;
  out.push(cli + 8, cli + 12, cli + 64, cli + 68);
  const dbg = pe.rvaToOffset(pe.dataDirectories[6]!.rva)!.offset;
  out.push(dbg + 16, dbg + 20, dbg + 24);
  out.push(mdAt + 12, mdAt + 16 + 12 + 2);
  for (let i = 0; i < 120; i += 4) out.push(mdAt + 32 + i);
  for (const s of md.streams) out.push(mdAt + s.offset);
  const ts = mdAt + md.streams.find((s) => s.name === "#~")!.offset;
  out.push(ts + 6, ts + 8, ts + 12, ts + 16);
  for (let i = 0; i < 22; i++) out.push(ts + 24 + 4 * i);
  for (let r = 1; r <= md.rowCount(T.MethodDef); r++) {
    const rva = md.methodRva(r);
    if (!rva) continue;
    const at = pe.rvaToOffset(rva)!.offset;
    out.push(at, at + 4, at + 8, at + 12, at + 0x24, at + 0x28);
  }
  return [...new Set(out)];
}

const hot = [...new Set(files.flatMap(hotOffsets))];

const PROPERTIES: Record<string, () => void> = {
  "PE + metadata: field and byte mutations of sample images (file layout)": () => {
    fc.assert(
      fc.property(mutated(files, hot), (bytes) => {
        expectOnlyTypedErrors(() => exercise(bytes, "file"));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  },

  "PE + metadata: truncations of sample images": () => {
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.nat(), (file, n) => {
        expectOnlyTypedErrors(() => exercise(file.slice(0, n % (file.length + 1)), "file"));
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
  },

  "PE + metadata: mutations of mapped-layout images": () => {
    fc.assert(
      fc.property(mutated(mappedFiles), (bytes) => {
        expectOnlyTypedErrors(() => exercise(bytes, "mapped"));
      }),
      { numRuns: RUNS, seed: SEED + 2 },
    );
  },

  "metadata: mutations of the metadata bytes alone": () => {
    const roots = files.map((f) => new PeImage(new BufferByteSource(f), "file").metadataBytes().slice());
    fc.assert(
      fc.property(mutated(roots), (bytes) => {
        noteInput(bytes);
        expectOnlyTypedErrors(() => exerciseMetadata(new MetadataReader(bytes, "fuzz metadata")));
      }),
      { numRuns: RUNS, seed: SEED + 3 },
    );
  },

  "PE: random bytes behind a valid MZ/PE prefix": () => {
    const prefix = files[0]!.subarray(0, 0x98);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (rest) => {
        const bytes = new Uint8Array(prefix.length + rest.length);
        bytes.set(prefix);
        bytes.set(rest, prefix.length);
        expectOnlyTypedErrors(() => exercise(bytes, "file"));
      }),
      { numRuns: RUNS, seed: SEED + 4 },
    );
  },

  "signatures: random blobs through every decoder and formatter": () => {
    const md = MetadataReader.fromPe(new PeImage(new BufferByteSource(files[0]!), "file"));
    const decoders = [decodeMethodSig, decodeFieldSig, decodeLocalSig, decodeTypeSpec, decodeMethodSpec, decodePropertySig, decodeStandAloneSig];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (blob) => {
        noteInput(blob);
        for (const d of decoders) {
          const r = expectOnlyTypedErrors(() => d(blob));
          if (r === undefined) continue;
          expectOnlyTypedErrors(() => {
            if (Array.isArray(r)) r.forEach((t) => formatSignature(md, t));
            else if ("kind" in r) formatSignature(md, r);
            else if ("returnType" in r) {
              formatMethodSignature(md, r);
              sigFormatParams(md, r);
            }
          });
        }
      }),
      { numRuns: RUNS, seed: SEED + 5 },
    );
  },

  "IL: random method bodies through the parser, decoder and dumpil": () => {
    const md = MetadataReader.fromPe(new PeImage(new BufferByteSource(files[0]!), "file"));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, fat) => {
        if (fat && bytes.length >= 12) {
          bytes[0] = (bytes[0]! & ~3) | 3;
          bytes[1] = (bytes[1]! & 0x0f) | 0x30;
        }
        noteInput(bytes);
        const body = expectOnlyTypedErrors(() => parseMethodBody(bytes));
        if (!body) return;
        expectOnlyTypedErrors(() => decodeInstructions(body.code));
        expectOnlyTypedErrors(() => dumpIl(md, body));
        expectOnlyTypedErrors(() => dumpIl(md, body, { exact: false }));
      }),
      { numRuns: RUNS, seed: SEED + 6 },
    );
  },
};

fuzzSuite("metadata parsers never throw untyped errors or hang (fast-check)", import.meta.url, PROPERTIES, { knownBugs: KNOWN_BUGS });
