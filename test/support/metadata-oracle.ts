// The metadata oracle (test/targets/metadata-oracle, C#): built once with the machine's SDK through
// dotnet-fixtures' buildDotnetTarget, run on an assembly, its JSON cached in the test cache by the
// hash of the oracle build (sources + SDK + runtimes), the assembly's bytes and the options.
// What it prints comes from System.Reflection.Metadata and runtime reflection, never from clrscope.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CODED, SCHEMA, T, type CodedKind, type ColumnType, type TableName } from "../../src/metadata/tables.js";
import { cachedDir } from "./cache.js";
import { buildDotnetTarget, dotnetEnv } from "./dotnet-fixtures.js";

export type Row = (string | number | number[] | null)[];

export interface OracleBody {
  token: number;
  rva: number;
  size: number;
  maxStack: number;
  localSig: number;
  initLocals: boolean;
  il: string;
  /** [kind (0 catch, 1 filter, 2 finally, 4 fault), tryOffset, tryLength, handlerOffset, handlerLength, catchType, filterOffset] */
  regions: number[][];
  /** [offset, opcode name, operand text] (see Program.cs WriteInstructions). */
  instructions: [number, string, string][];
}

export interface OracleOutput {
  pe: {
    machine: number;
    timeDateStamp: number;
    characteristics: number;
    pe32Plus: boolean;
    imageBase: string;
    sizeOfImage: number;
    sizeOfHeaders: number;
    sectionAlignment: number;
    fileAlignment: number;
    subsystem: number;
    dllCharacteristics: number;
    checkSum: number;
    sections: [string, number, number, number, number, number][];
    corFlags: number;
    runtimeVersion: number;
    entryPoint: number;
    metadataRva: number;
    metadataSize: number;
    metadataOffset: number;
    managedNativeHeaderRva: number;
    readyToRun: boolean;
    debug: { type: number; stamp: number; major: number; minor: number; size: number; rva: number; pointer: number; guid?: string; age?: number; path?: string; portable?: boolean }[];
  };
  metadata: { version: string; rowCounts: number[]; rowSizes: number[]; heapSizes: { strings: number; blob: number; guid: number; userString: number } };
  module: { name: string; mvid: string };
  assembly?: { name: string; version: string; culture: string; flags: number; publicKeyLength: number };
  assemblyRefs: Row[];
  typeRefs: Row[];
  typeDefs: Row[];
  fields: Row[];
  methodDefs: Row[];
  params: Row[];
  memberRefs: Row[];
  typeSpecs: Row[];
  methodSpecs: Row[];
  standAloneSigs: Row[];
  properties: Row[];
  events: Row[];
  customAttributes: Row[];
  constants: Row[];
  methodImpls: Row[];
  genericParams: Row[];
  moduleRefs: Row[];
  exportedTypes: Row[];
  userStrings: [number, string][];
  bodies: OracleBody[];
  reflectionError?: string;
  reflectedFrom?: string;
  /** [TypeDef token, Type.FullName without assembly versions] (null when reflection cannot load it). */
  typeNames?: [number, string | null][];
  /** key -> DAC-form name; key + "@assembly" -> the defining assembly's simple name. */
  constructedNames?: Record<string, string>;
}

export interface OracleOptions {
  /** Dump every IL body ("all") or a sample ("sample": every 50th method and those with EH clauses). */
  il?: "all" | "sample";
  /** Add the runtime's own type names (reflection) for every TypeDef and the constructed set. */
  reflect?: boolean;
}

/** Path of the built oracle (metadata-oracle.dll). */
export function metadataOracleDll(): string {
  return buildDotnetTarget("metadata-oracle");
}

function fileHash(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Runs the oracle on `assembly` (cached) and returns its parsed output. */
export function runMetadataOracle(assembly: string, options: OracleOptions = {}): OracleOutput {
  const oracle = metadataOracleDll();
  const buildHash = path.basename(path.dirname(path.dirname(oracle)));
  const args = ["--il", options.il ?? "sample", ...(options.reflect ? ["--reflect"] : [])];
  const dir = cachedDir("metadata-oracle", [buildHash, fileHash(assembly), path.resolve(assembly), ...args], (out) => {
    const json = path.join(out, "oracle.json");
    const r = spawnSync("dotnet", [oracle, assembly, json, ...args], {
      env: dotnetEnv(),
      encoding: "utf8",
      timeout: 300_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (r.error) throw new Error(`metadata oracle on ${assembly}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`metadata oracle on ${assembly} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  });
  return JSON.parse(fs.readFileSync(path.join(dir, "oracle.json"), "utf8")) as OracleOutput;
}

/** The shared framework directory of the runtime the oracle runs on (System.Private.CoreLib & co). */
export function sharedFrameworkDir(): string | undefined {
  const r = spawnSync("dotnet", ["--list-runtimes"], { env: dotnetEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) return undefined;
  const lines = r.stdout.split("\n").reverse();
  for (const line of lines) {
    const m = /^Microsoft\.NETCore\.App (\S+) \[(.+)\]$/.exec(line.trim());
    if (m) {
      const dir = path.join(m[2]!, m[1]!);
      if (fs.existsSync(path.join(dir, "System.Private.CoreLib.dll"))) return dir;
    }
  }
  return undefined;
}

// ---- synthetic images ------------------------------------------------------------------------------
// Small PE files with chosen metadata, for unit and fuzz tests: their truth is known by
// construction. The table layout follows ECMA-335 through src/metadata/tables.ts' schema (column
// order); the widths, heaps, stream headers and PE structures are written here independently.

/** A cell: a number (raw value, row number, or a token for coded indexes), a string (#Strings), bytes (#Blob). */
export type Cell = number | string | Uint8Array;

export interface SynthMetadata {
  tables: Partial<Record<TableName, Cell[][]>>;
  /** #US entries, in order (their offsets are returned). */
  userStrings?: string[];
  /** Extra #GUID entries (16 bytes each); index 1 is always present (the MVID). */
  guids?: Uint8Array[];
  /** Force 4-byte #Strings/#GUID/#Blob indexes (HeapSizes bits 0x01/0x02/0x04). */
  wideHeaps?: number;
  /** "#~" (default) or "#-" (uncompressed; allows Ptr tables). */
  tablesStream?: "#~" | "#-";
  /** Sorted-table bitmask (default: the tables ECMA-335 requires sorted). */
  sorted?: bigint;
  version?: string;
}

export interface WrittenMetadata {
  bytes: Uint8Array;
  /** #US offsets of `userStrings`, in order. */
  userStringOffsets: number[];
  /** #Strings offset of each interned string. */
  stringOffsets: Map<string, number>;
}

const SORTED_TABLES = [T.InterfaceImpl, T.Constant, T.CustomAttribute, T.FieldMarshal, T.DeclSecurity, T.ClassLayout, T.FieldLayout, T.MethodSemantics, T.MethodImpl, T.ImplMap, T.FieldRVA, T.NestedClass, T.GenericParam, T.GenericParamConstraint];

class ByteWriter {
  private chunks: number[] = [];
  get length(): number {
    return this.chunks.length;
  }
  u8(v: number): this {
    this.chunks.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: bigint): this {
    return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n));
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]!);
    return this;
  }
  align(n: number): this {
    while (this.chunks.length % n) this.chunks.push(0);
    return this;
  }
  at(offset: number, v: number, size: 2 | 4): void {
    for (let i = 0; i < size; i++) this.chunks[offset + i] = (v >>> (8 * i)) & 0xff;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** ECMA-335 compressed unsigned integer. */
export function compressed(v: number): number[] {
  if (v < 0x80) return [v];
  if (v < 0x4000) return [0x80 | (v >> 8), v & 0xff];
  return [0xc0 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

function codedTag(kind: CodedKind): number {
  let bits = 0;
  while (1 << bits < CODED[kind].length) bits++;
  return bits;
}

/** Writes a metadata root with #~/#-, #Strings, #US, #GUID and #Blob. */
export function writeMetadata(spec: SynthMetadata): WrittenMetadata {
  const strings = new ByteWriter().u8(0);
  const stringOffsets = new Map<string, number>([["", 0]]);
  const str = (s: string): number => {
    let o = stringOffsets.get(s);
    if (o === undefined) {
      o = strings.length;
      stringOffsets.set(s, o);
      strings.bytes(new TextEncoder().encode(s)).u8(0);
    }
    return o;
  };
  const blobs = new ByteWriter().u8(0);
  const blobOffsets = new Map<string, number>();
  const blob = (b: Uint8Array): number => {
    // Identical blobs share one entry, as compilers write them.
    const key = Array.from(b).join(",");
    let o = blobOffsets.get(key);
    if (o === undefined) {
      o = blobs.length;
      blobOffsets.set(key, o);
      blobs.bytes(compressed(b.length)).bytes(b);
    }
    return o;
  };
  const us = new ByteWriter().u8(0);
  const userStringOffsets: number[] = [];
  for (const s of spec.userStrings ?? []) {
    userStringOffsets.push(us.length);
    const data: number[] = [];
    let high = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      data.push(c & 0xff, c >> 8);
      if (c >= 0x80) high = 1;
    }
    us.bytes(compressed(data.length + 1)).bytes(data).u8(high);
  }
  const guids = new ByteWriter().bytes(Array.from({ length: 16 }, (_, i) => 0x10 + i));
  for (const g of spec.guids ?? []) guids.bytes(g);

  // Heap entries first (in table order), then row counts: every width depends on them.
  const order = Object.keys(SCHEMA) as TableName[];
  const values = new Map<TableName, number[][]>();
  for (const name of order) {
    const list = spec.tables[name];
    if (list) values.set(name, list.map((row) => row.map((cell) => (typeof cell === "string" ? str(cell) : cell instanceof Uint8Array ? blob(cell) : cell))));
  }
  const rows = new Array<number>(64).fill(0);
  for (const [name, list] of Object.entries(spec.tables)) rows[T[name as TableName]] = list!.length;
  const heapSizes = (spec.wideHeaps ?? 0) | (strings.length >= 0x10000 ? 1 : 0) | (blobs.length >= 0x10000 ? 4 : 0);
  const width = (c: ColumnType, isList: boolean): number => {
    if (c === "u8p" || c === "u16") return 2;
    if (c === "u32") return 4;
    if (c === "str") return heapSizes & 1 ? 4 : 2;
    if (c === "guid") return heapSizes & 2 ? 4 : 2;
    if (c === "blob") return heapSizes & 4 ? 4 : 2;
    if ("table" in c) {
      const ptr = { [T.Field]: T.FieldPtr, [T.MethodDef]: T.MethodPtr, [T.Param]: T.ParamPtr, [T.Event]: T.EventPtr, [T.Property]: T.PropertyPtr }[c.table];
      const n = isList && ptr !== undefined ? Math.max(rows[c.table]!, rows[ptr]!) : rows[c.table]!;
      return n < 0x10000 ? 2 : 4;
    }
    const max = Math.max(...CODED[c.coded].map((t) => (t < 0 ? 0 : rows[t]!)));
    return max < 1 << (16 - codedTag(c.coded)) ? 2 : 4;
  };

  const tables = new ByteWriter();
  let valid = 0n;
  for (let t = 0; t < 64; t++) if (rows[t]) valid |= 1n << BigInt(t);
  let sorted = spec.sorted;
  if (sorted === undefined) {
    sorted = 0n;
    for (const t of SORTED_TABLES) sorted |= 1n << BigInt(t);
  }
  tables.u32(0).u8(2).u8(0).u8(heapSizes).u8(1).u64(valid).u64(sorted);
  for (let t = 0; t < 64; t++) if (rows[t]) tables.u32(rows[t]!);
  for (const name of order) {
    const list = values.get(name);
    if (!list) continue;
    const cols = Object.entries(SCHEMA[name]) as [string, ColumnType][];
    for (const [r, row] of list.entries()) {
      if (row.length !== cols.length) throw new Error(`${name}: row has ${row.length} cells, the table ${cols.length} columns`);
      cols.forEach(([colName, c], i) => {
        const cell = row[i]!;
        const given = spec.tables[name]![r]![i]!;
        let v: number;
        if (typeof given !== "number") v = cell;
        else if (typeof c === "object" && "coded" in c) {
          const tag = (CODED[c.coded] as readonly number[]).indexOf(cell >>> 24);
          if (tag < 0) throw new Error(`${name}.${colName}: token 0x${cell.toString(16)} is not a ${c.coded}`);
          v = (cell & 0xffffff) * (1 << codedTag(c.coded)) + tag;
        } else v = cell;
        const w = width(c, colName.endsWith("List"));
        if (w === 2) tables.u16(v);
        else tables.u32(v);
      });
    }
  }

  const streams: [string, Uint8Array][] = [
    [spec.tablesStream ?? "#~", tables.align(4).done()],
    ["#Strings", strings.align(4).done()],
    ["#US", us.align(4).done()],
    ["#GUID", guids.done()],
    ["#Blob", blobs.align(4).done()],
  ];
  const version = new TextEncoder().encode(spec.version ?? "v4.0.30319");
  const versionLength = (version.length + 4) & ~3;
  const root = new ByteWriter().u32(0x424a5342).u16(1).u16(1).u32(0).u32(versionLength).bytes(version);
  while (root.length < 16 + versionLength) root.u8(0);
  root.u16(0).u16(streams.length);
  let headerSize = root.length;
  for (const [n] of streams) headerSize += 8 + ((n.length + 4) & ~3);
  let offset = headerSize;
  for (const [n, data] of streams) {
    root.u32(offset).u32(data.length).bytes(new TextEncoder().encode(n)).u8(0).align(4);
    offset += data.length;
  }
  for (const [, data] of streams) root.bytes(data);
  return { bytes: root.done(), userStringOffsets, stringOffsets };
}

export interface SynthPe {
  metadata: Uint8Array;
  /** Bytes placed at CODE_RVA (method bodies, field data); metadata follows them. */
  code?: Uint8Array;
  is64?: boolean;
  codeView?: { guid: Uint8Array; age: number; path: string; portable?: boolean };
  readyToRun?: boolean;
  timeDateStamp?: number;
}

/** RVA of the .text section; the CLI header sits at its start. */
export const TEXT_RVA = 0x2000;
/** RVA where SynthPe.code is placed. */
export const CODE_RVA = 0x2100;
const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x2000;

/** A PE file (file layout) with one .text section holding the CLI header, debug data, code and metadata. */
export function writePe(spec: SynthPe): Uint8Array {
  const is64 = spec.is64 ?? false;
  // .text: [CLI header 72][debug directory 28][CodeView][RTR header 16] ... at 0x100: code, metadata.
  const text = new ByteWriter();
  const cliAt = 0;
  text.bytes(new Array(72).fill(0));
  const debugAt = text.length;
  const cv = spec.codeView;
  const cvData = cv ? new ByteWriter().u32(0x53445352).bytes(cv.guid).u32(cv.age).bytes(new TextEncoder().encode(cv.path)).u8(0).done() : undefined;
  if (cv) text.bytes(new Array(28).fill(0));
  const cvAt = text.length;
  if (cvData) text.bytes(cvData).align(4);
  const rtrAt = text.length;
  if (spec.readyToRun) text.u32(0x00525452).u16(9).u16(2).u32(0).u32(0);
  if (text.length > CODE_RVA - TEXT_RVA) throw new Error("synthetic .text header area overflow");
  while (text.length < CODE_RVA - TEXT_RVA) text.u8(0);
  text.bytes(spec.code ?? []).align(4);
  const mdAt = text.length;
  text.bytes(spec.metadata).align(4);
  const textData = text.done();
  const rva = (o: number): number => TEXT_RVA + o;
  const dv = new DataView(textData.buffer);
  // CLI header
  dv.setUint32(cliAt, 72, true);
  dv.setUint16(cliAt + 4, 2, true);
  dv.setUint16(cliAt + 6, 5, true);
  dv.setUint32(cliAt + 8, rva(mdAt), true);
  dv.setUint32(cliAt + 12, spec.metadata.length, true);
  dv.setUint32(cliAt + 16, 1, true);
  if (spec.readyToRun) {
    dv.setUint32(cliAt + 64, rva(rtrAt), true);
    dv.setUint32(cliAt + 68, 16, true);
  }

  const headersSize = FILE_ALIGN;
  const textFileOffset = headersSize;
  const rawSize = Math.ceil(textData.length / FILE_ALIGN) * FILE_ALIGN;
  if (cv && cvData) {
    dv.setUint32(debugAt + 0, 0, true);
    dv.setUint32(debugAt + 4, 0x12345678, true);
    dv.setUint16(debugAt + 8, cv.portable ? 0x100 : 0, true);
    dv.setUint16(debugAt + 10, cv.portable ? 0x504d : 0, true);
    dv.setUint32(debugAt + 12, 2, true);
    dv.setUint32(debugAt + 16, cvData.length, true);
    dv.setUint32(debugAt + 20, rva(cvAt), true);
    dv.setUint32(debugAt + 24, textFileOffset + cvAt, true);
  }
  const sizeOfImage = TEXT_RVA + Math.ceil(textData.length / SECTION_ALIGN) * SECTION_ALIGN;

  const h = new ByteWriter();
  h.u16(0x5a4d);
  while (h.length < 0x3c) h.u8(0);
  h.u32(0x80);
  while (h.length < 0x80) h.u8(0);
  const optSize = is64 ? 240 : 224;
  h.u32(0x4550).u16(is64 ? 0x8664 : 0x14c).u16(1).u32(spec.timeDateStamp ?? 0x5f000000).u32(0).u32(0).u16(optSize).u16(0x2022);
  const opt = h.length;
  h.u16(is64 ? 0x20b : 0x10b).u8(48).u8(0).u32(rawSize).u32(0).u32(0).u32(0).u32(TEXT_RVA);
  if (is64) h.u64(0x180000000n);
  else h.u32(0).u32(0x400000);
  h.u32(SECTION_ALIGN).u32(FILE_ALIGN).u16(4).u16(0).u16(0).u16(0).u16(4).u16(0).u32(0).u32(sizeOfImage).u32(headersSize).u32(0).u16(3).u16(0x8560);
  if (is64) h.u64(0x100000n).u64(0x1000n).u64(0x100000n).u64(0x1000n);
  else h.u32(0x100000).u32(0x1000).u32(0x100000).u32(0x1000);
  h.u32(0).u32(16);
  const dirs = new Array<[number, number]>(16).fill([0, 0]);
  if (cv) dirs[6] = [rva(debugAt), 28];
  dirs[14] = [rva(cliAt), 72];
  for (const [r, s] of dirs) h.u32(r).u32(s);
  if (h.length - opt !== optSize) throw new Error(`optional header is ${h.length - opt} bytes`);
  h.bytes(new TextEncoder().encode(".text\0\0\0")).u32(textData.length).u32(TEXT_RVA).u32(rawSize).u32(textFileOffset).u32(0).u32(0).u16(0).u16(0).u32(0x60000020);
  while (h.length < headersSize) h.u8(0);
  h.bytes(textData);
  while (h.length < headersSize + rawSize) h.u8(0);
  return h.done();
}

/** The same image as the loader maps it: headers at 0, each section at its RVA. */
export function toMappedLayout(file: Uint8Array): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const lfanew = dv.getUint32(0x3c, true);
  const nsec = dv.getUint16(lfanew + 6, true);
  const optSize = dv.getUint16(lfanew + 20, true);
  const sizeOfImage = dv.getUint32(lfanew + 24 + 56, true);
  const sizeOfHeaders = dv.getUint32(lfanew + 24 + 60, true);
  const out = new Uint8Array(sizeOfImage);
  out.set(file.subarray(0, sizeOfHeaders));
  for (let i = 0; i < nsec; i++) {
    const o = lfanew + 24 + optSize + 40 * i;
    const va = dv.getUint32(o + 12, true);
    const raw = dv.getUint32(o + 16, true);
    const ptr = dv.getUint32(o + 20, true);
    out.set(file.subarray(ptr, ptr + Math.min(raw, sizeOfImage - va)), va);
  }
  return out;
}

// ---- the sample assembly ------------------------------------------------------------------------
// One synthetic assembly used by the unit and fuzz tests: types (nested, generic, a name with
// characters TypeString escapes, a name longer than SOS's buffers), fields (one volatile), methods
// with IL bodies (tiny and fat, every exception clause kind), member references (a vararg call
// site, a field of a generic instantiation), a TypeSpec, a MethodSpec, locals, user strings.

/** Little-endian bytes of an IL instruction stream: numbers are bytes, [n, size] a multi-byte value. */
function il(...parts: (number | [number, 2 | 4])[]): number[] {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p & 0xff);
    else for (let i = 0; i < p[1]; i++) out.push((p[0] >>> (8 * i)) & 0xff);
  }
  return out;
}

/** A fat method body: header (MaxStack 8, locals token), code, then an EH section if clauses are given. */
export function fatBody(code: number[], options: { localSig?: number; clauses?: number[][]; fatClauses?: boolean; initLocals?: boolean } = {}): number[] {
  const clauses = options.clauses ?? [];
  const flags = 0x3 | (clauses.length ? 0x8 : 0) | (options.initLocals ? 0x10 : 0) | (3 << 12);
  const out = il([flags, 2], [8, 2], [code.length, 4], [options.localSig ?? 0, 4], ...code);
  if (clauses.length) {
    while (out.length % 4) out.push(0);
    if (options.fatClauses) {
      const size = 4 + 24 * clauses.length;
      out.push(0x41, size & 0xff, (size >> 8) & 0xff, size >> 16);
      for (const c of clauses) out.push(...il(...c.map((v): [number, 4] => [v, 4])));
    } else {
      out.push(0x01, 4 + 12 * clauses.length, 0, 0);
      for (const [flags, tryOff, tryLen, hOff, hLen, extra] of clauses) out.push(...il([flags!, 2], [tryOff!, 2], tryLen!, [hOff!, 2], hLen!, [extra!, 4]));
    }
  }
  return out;
}

export const SAMPLE_STRINGS = ["hello", "a".repeat(79), "b".repeat(80), "c".repeat(81), "h\u00e9llo\n"];
export const LONG_TYPE_NAME = "AVeryLongTypeNameThatSOSCutsShortInItsFiftyCharacterBuffers";

export interface SampleAssembly {
  file: Uint8Array;
  metadata: WrittenMetadata;
  /** RVA of each method body by MethodDef row. */
  methodRva: Record<number, number>;
}

/** Builds the sample assembly; `variant` changes the encoding but not the content. */
export function sampleAssembly(variant: { wideHeaps?: number; is64?: boolean; fatClauses?: boolean } = {}): SampleAssembly {
  const tok = (table: number, rid: number): number => ((table << 24) | rid) >>> 0;
  // User strings are written first so that their offsets are known for ldstr: the writer puts
  // the first entry at offset 1 and each after the previous one.
  const usOffsets: number[] = [];
  let off = 1;
  for (const s of SAMPLE_STRINGS) {
    usOffsets.push(off);
    const n = s.length * 2 + 1;
    off += compressed(n).length + n;
  }
  const str = (i: number): [number, 4] => [tok(0x70, usOffsets[i]!), 4];
  const main = il(
    0x72, str(0), // ldstr "hello"
    0x28, [tok(T.MemberRef, 1), 4], // call Console::WriteLine(string)
    0x1f, 0xff, // ldc.i4.s -1
    0x26, // pop
    0x7e, [tok(T.Field, 1), 4], // ldsfld Program::s_count
    0x7e, [tok(T.MemberRef, 2), 4], // ldsfld Generic`1<int32>::Value
    0x26, 0x26,
    0x72, str(1), 0x26,
    0x72, str(2), 0x26,
    0x72, str(3), 0x26,
    0x72, str(4), 0x26,
    0x28, [tok(T.MethodSpec, 1), 4], 0x26, // call Id<string>
    0xd0, [tok(T.TypeDef, 5), 4], 0x26, // ldtoken <long name>
    0xd0, [tok(T.TypeSpec, 1), 4], 0x26, // ldtoken Generic`1<int32>
    0x2a,
  );
  const handlers = il(
    0x00, // 00 nop
    0x02, 0x26, 0xde, 0x12, // 01 ldarg.0, pop, leave.s 0x17
    0x26, 0xde, 0x0f, // 05 pop, leave.s 0x17
    0x00, 0xdc, // 08 nop, endfinally
    0x02, 0x26, // 0a ldarg.0, pop
    0x00, 0xdc, // 0c nop, endfinally (endfault)
    0x02, 0x26, // 0e ldarg.0, pop
    0x26, 0x17, 0xfe, 0x11, // 10 pop, ldc.i4.1, endfilter
    0x26, 0x2b, 0xfe, // 14 pop, br.s -2
    0x2a, // 17 ret
  );
  const clauses = [
    [0, 0x01, 4, 0x05, 3, tok(T.TypeRef, 2)], // catch System.Exception
    [2, 0x01, 7, 0x08, 2, 0], // finally
    [4, 0x0a, 2, 0x0c, 2, 0], // fault
    [1, 0x0e, 2, 0x14, 3, 0x10], // filter at 0x10
  ];
  const varargs = il(0x17, 0x72, str(0), 0x28, [tok(T.MemberRef, 3), 4], 0x2a); // ldc.i4.1, ldstr, call vararg, ret
  const id = [(2 << 2) | 2, 0x02, 0x2a]; // tiny: ldarg.0, ret

  const code: number[] = [];
  const methodRva: Record<number, number> = {};
  const place = (rid: number, body: number[]): number => {
    while (code.length % 4) code.push(0);
    methodRva[rid] = CODE_RVA + code.length;
    code.push(...body);
    return methodRva[rid]!;
  };
  place(1, fatBody(main, { localSig: tok(T.StandAloneSig, 1), initLocals: true }));
  place(2, fatBody(handlers, { clauses, fatClauses: variant.fatClauses }));
  place(3, fatBody(varargs));
  place(5, id);

  const b = (...x: number[]): Uint8Array => Uint8Array.from(x);
  const TD = (rid: number): number => tok(T.TypeDef, rid);
  const TR = (rid: number): number => tok(T.TypeRef, rid);
  const metadata = writeMetadata({
    wideHeaps: variant.wideHeaps,
    userStrings: SAMPLE_STRINGS,
    tables: {
      Module: [[0, "sample.dll", 1, 0, 0]],
      TypeRef: [
        [tok(T.AssemblyRef, 1), "Object", "System"],
        [tok(T.AssemblyRef, 1), "Exception", "System"],
        [tok(T.AssemblyRef, 1), "Console", "System"],
        [TR(5), "Inner", ""],
        [tok(T.AssemblyRef, 1), "Outer", "System"],
        [tok(T.AssemblyRef, 1), "IsVolatile", "System.Runtime.CompilerServices"],
      ],
      TypeDef: [
        [0, "<Module>", "", TD(0), 1, 1],
        [0x100001, "Program", "Sample.App", TR(1), 1, 1],
        [0x2, "Nested+Odd,Name", "", TR(1), 3, 4],
        [0x100001, "Generic`1", "Sample.App", TR(1), 3, 5],
        [0x1, LONG_TYPE_NAME, "Sample.App", TR(1), 3, 6],
      ],
      Field: [
        [0x16, "s_count", b(0x06, 0x08)],
        [0x01, "m_volatile", b(0x06, 0x1f, (6 << 2) | 1, 0x08)],
      ],
      MethodDef: [
        [methodRva[1]!, 0, 0x96, "Main", b(0x00, 0x01, 0x01, 0x1d, 0x0e), 1],
        [methodRva[2]!, 0, 0x96, "Handlers", b(0x00, 0x01, 0x08, 0x08), 2],
        [methodRva[3]!, 0, 0x96, "VarArgs", b(0x05, 0x01, 0x08, 0x08), 3],
        [0, 0, 0x86, "NestedMethod", b(0x20, 0x00, 0x01), 3],
        [methodRva[5]!, 0, 0x96, "Id", b(0x10, 0x01, 0x01, 0x1e, 0x00, 0x1e, 0x00), 3],
      ],
      Param: [
        [0, 1, "args"],
        [0, 1, "x"],
      ],
      MemberRef: [
        [TR(3), "WriteLine", b(0x00, 0x01, 0x01, 0x0e)],
        [tok(T.TypeSpec, 1), "Value", b(0x06, 0x13, 0x00)],
        [tok(T.MethodDef, 3), "VarArgs", b(0x05, 0x02, 0x08, 0x08, 0x41, 0x0e)],
        [TR(2), ".ctor", b(0x20, 0x00, 0x01)],
      ],
      Constant: [[0x08, tok(T.Field, 1), b(0x2a, 0, 0, 0)]],
      CustomAttribute: [[TD(2), tok(T.MemberRef, 4), b(0x01, 0x00, 0x00, 0x00)]],
      StandAloneSig: [[b(0x07, 0x02, 0x08, 0x45, 0x10, 0x08)]],
      TypeSpec: [[b(0x15, 0x12, 4 << 2, 0x01, 0x08)]],
      Assembly: [[0x8004, 1, 2, 3, 4, 0, b(), "sample", ""]],
      AssemblyRef: [[10, 0, 0, 0, 0, b(0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a), "System.Runtime", "", b()]],
      NestedClass: [[3, 2]],
      GenericParam: [
        [0, 0, TD(4), "T"],
        [0, 0, tok(T.MethodDef, 5), "U"],
      ],
      MethodSpec: [[tok(T.MethodDef, 5), b(0x0a, 0x01, 0x0e)]],
    },
  });
  if (metadata.userStringOffsets.join() !== usOffsets.join()) throw new Error("user string offsets moved");
  const file = writePe({
    metadata: metadata.bytes,
    code: Uint8Array.from(code),
    is64: variant.is64,
    codeView: { guid: Uint8Array.from({ length: 16 }, (_, i) => i + 1), age: 3, path: "/src/sample.pdb", portable: true },
    readyToRun: true,
  });
  return { file, metadata, methodRva };
}
