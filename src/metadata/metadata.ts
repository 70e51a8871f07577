// ECMA-335 metadata (Partition II, 24): the metadata root and its streams, the heaps, and the
// tables of the #~ (compressed) or #- (uncompressed, may use Ptr tables) stream. Rows are not
// materialised: a cell is read straight from the bytes through precomputed column offsets, so
// opening System.Private.CoreLib costs the header walk plus whatever is asked for.
// The layout (row sizes, index widths) comes from tables.ts; everything read from the image is
// bounds-checked at open time (the tables must fit in their stream) or at access (row numbers).
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import { BlobHeap, GuidHeap, StringHeap, UserStringHeap } from "./heaps.js";
import type { PeImage } from "./pe.js";
import { CODED, COL, codedBits, PTR_TABLE, SCHEMA_BY_ID, T, TABLE_NAMES, token, tokenRid, tokenTable, type CodedKind, type ColumnType } from "./tables.js";
import { MAX_METADATA_RID } from "../limits.js";

const METADATA_SIGNATURE = 0x424a5342; // "BSJB"

export interface StreamHeader {
  name: string;
  offset: number;
  size: number;
}

/** A range of positions in a member list ([start, end), 1-based) of a TypeDef or MethodDef. */
export interface ListRange {
  start: number;
  end: number;
}

/** The metadata root (II.24.2.1) of `bytes`: version and stream headers, each checked to lie inside. */
export function readMetadataRoot(bytes: Uint8Array, name: string): { majorVersion: number; minorVersion: number; version: string; streams: StreamHeader[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (o: number, n: number, what: string): void => {
    if (o < 0 || o + n > bytes.length) throw new CorruptDataError(`${name}: ${what} at ${o} (+${n}) lies outside the ${bytes.length} metadata bytes`);
  };
  need(0, 16, "metadata root");
  if (view.getUint32(0, true) !== METADATA_SIGNATURE) throw new UnsupportedFormatError(`${name}: no metadata signature (BSJB)`);
  const versionLength = view.getUint32(12, true);
  need(16, versionLength + 4, "version string");
  let end = 16;
  while (end < 16 + versionLength && bytes[end] !== 0) end++;
  const version = new TextDecoder().decode(bytes.subarray(16, end));
  let pos = 16 + versionLength;
  const streamCount = view.getUint16(pos + 2, true);
  pos += 4;
  const streams: StreamHeader[] = [];
  for (let i = 0; i < streamCount; i++) {
    need(pos, 8, "stream header");
    const offset = view.getUint32(pos, true);
    const size = view.getUint32(pos + 4, true);
    pos += 8;
    // The name is NUL-terminated and padded to 4 bytes; ECMA caps it at 32 characters.
    let n = pos;
    while (n < bytes.length && n < pos + 32 && bytes[n] !== 0) n++;
    need(n, 1, "stream name");
    const streamName = String.fromCharCode(...bytes.subarray(pos, n));
    pos = (n + 4) & ~3;
    need(offset, size, `stream ${streamName}`);
    streams.push({ name: streamName, offset, size });
  }
  return { majorVersion: view.getUint16(4, true), minorVersion: view.getUint16(6, true), version, streams };
}

export class MetadataReader {
  readonly view: DataView;
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** The runtime version string of the root, e.g. "v4.0.30319". */
  readonly version: string;
  readonly streams: StreamHeader[];
  readonly strings: StringHeap;
  readonly blobs: BlobHeap;
  readonly guids: GuidHeap;
  readonly userStrings: UserStringHeap;
  /** "#~" (compressed) or "#-" (uncompressed). */
  readonly tablesStreamName: string;
  readonly heapSizes: number;
  /** Row counts by table number (0 for absent tables). */
  readonly rowCounts: Uint32Array = new Uint32Array(64);
  /** Bytes per row by table number. */
  readonly rowSizes: Uint32Array = new Uint32Array(64);
  private readonly tableOffsets = new Float64Array(64);
  private readonly sortedLo: number;
  private readonly sortedHi: number;
  private readonly colOffsets: number[][] = [];
  private readonly colSizes: number[][] = [];
  /** 0xff for a 1-byte constant stored with a padding byte, else 0xffff (2-byte cells only). */
  private readonly colMasks: number[][] = [];
  private readonly codedKinds: (CodedKind | undefined)[][] = [];
  // Lazily built indexes over whole tables.
  private enclosing: Uint32Array | undefined;
  private nestedLists: Map<number, number[]> | undefined;
  private ptrInverse = new Map<number, Uint32Array>();
  private propertyMapIndex: Map<number, number> | undefined;
  private eventMapIndex: Map<number, number> | undefined;
  private typeDefIndex: Map<string, number> | undefined;

  constructor(
    readonly bytes: Uint8Array,
    readonly name = "metadata",
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const root = readMetadataRoot(bytes, name);
    this.majorVersion = root.majorVersion;
    this.minorVersion = root.minorVersion;
    this.version = root.version;
    this.streams = root.streams;
    const stream = (n: string): StreamHeader => this.streams.find((s) => s.name === n) ?? { name: n, offset: 0, size: 0 };
    const s = stream("#Strings");
    this.strings = new StringHeap(bytes, s.offset, s.size, `${name} #Strings`);
    const b = stream("#Blob");
    this.blobs = new BlobHeap(bytes, b.offset, b.size, `${name} #Blob`);
    const g = stream("#GUID");
    this.guids = new GuidHeap(bytes, g.offset, g.size, `${name} #GUID`);
    const u = stream("#US");
    this.userStrings = new UserStringHeap(bytes, u.offset, u.size, `${name} #US`);

    const tables = this.streams.find((x) => x.name === "#~" || x.name === "#-");
    if (!tables) throw new CorruptDataError(`${name}: no #~ or #- tables stream`);
    this.tablesStreamName = tables.name;
    const ts = tables.offset;
    const tsEnd = tables.offset + tables.size;
    if (tables.size < 24) throw new CorruptDataError(`${name}: tables stream of ${tables.size} bytes is too short for its header`);
    this.heapSizes = bytes[ts + 6]!;
    const validLo = this.view.getUint32(ts + 8, true);
    const validHi = this.view.getUint32(ts + 12, true);
    this.sortedLo = this.view.getUint32(ts + 16, true);
    this.sortedHi = this.view.getUint32(ts + 20, true);
    let pos = ts + 24;
    for (let t = 0; t < 64; t++) {
      if (!bit(validLo, validHi, t)) continue;
      if (!SCHEMA_BY_ID[t]) throw new UnsupportedFormatError(`${name}: metadata table 0x${t.toString(16)} is not an ECMA-335 type-system table`);
      if (pos + 4 > tsEnd) throw new CorruptDataError(`${name}: row counts run past the tables stream`);
      const rows = this.view.getUint32(pos, true);
      if (rows > MAX_METADATA_RID) throw new CorruptDataError(`${name}: table ${TABLE_NAMES[t]} claims ${rows} rows (more than a token can address)`);
      this.rowCounts[t] = rows;
      pos += 4;
    }
    if (this.heapSizes & 0x40) pos += 4; // "extra data" word of some uncompressed streams
    this.layoutTables(pos, tsEnd);
  }

  /** Opens the metadata of a managed PE image. */
  static fromPe(pe: PeImage): MetadataReader {
    return new MetadataReader(pe.metadataBytes(), `${pe.name} metadata`);
  }

  private layoutTables(start: number, end: number): void {
    const heapWidth = (flag: number): number => (this.heapSizes & flag ? 4 : 2);
    let pos = start;
    for (let t = 0; t < 64; t++) {
      const cols = SCHEMA_BY_ID[t];
      if (!cols) continue;
      const offsets: number[] = [];
      const sizes: number[] = [];
      const kinds: (CodedKind | undefined)[] = [];
      const masks: number[] = [];
      let rowSize = 0;
      const names = Object.keys(COL[TABLE_NAMES[t] as keyof typeof COL]);
      cols.forEach((c, i) => {
        const size = this.columnWidth(c, names[i]!.endsWith("List"), heapWidth);
        offsets.push(rowSize);
        sizes.push(size);
        kinds.push(typeof c === "object" && "coded" in c ? c.coded : undefined);
        masks.push(c === "u8p" ? 0xff : 0xffff);
        rowSize += size;
      });
      this.colOffsets[t] = offsets;
      this.colSizes[t] = sizes;
      this.codedKinds[t] = kinds;
      this.colMasks[t] = masks;
      this.rowSizes[t] = rowSize;
      this.tableOffsets[t] = pos;
      pos += rowSize * this.rowCounts[t]!;
    }
    if (pos > end) throw new CorruptDataError(`${this.name}: the tables need ${pos - start} bytes but their stream holds ${end - start}`);
  }

  private columnWidth(c: ColumnType, isList: boolean, heapWidth: (flag: number) => number): number {
    switch (c) {
      case "u8p":
      case "u16":
        return 2;
      case "u32":
        return 4;
      case "str":
        return heapWidth(0x01);
      case "guid":
        return heapWidth(0x02);
      case "blob":
        return heapWidth(0x04);
    }
    if ("table" in c) {
      let rows = this.rowCounts[c.table]!;
      const ptr = PTR_TABLE[c.table];
      if (isList && ptr !== undefined) rows = Math.max(rows, this.rowCounts[ptr]!);
      return rows < 0x10000 ? 2 : 4;
    }
    const tables = CODED[c.coded];
    let max = 0;
    for (const t of tables) if (t >= 0) max = Math.max(max, this.rowCounts[t]!);
    return max < 1 << (16 - codedBits(c.coded)) ? 2 : 4;
  }

  // ---- cells ---------------------------------------------------------------------------------

  rowCount(table: number): number {
    return this.rowCounts[table] ?? 0;
  }

  isSorted(table: number): boolean {
    return bit(this.sortedLo, this.sortedHi, table);
  }

  /** The raw value of column `col` of row `rid` (1-based) of `table`. */
  cell(table: number, rid: number, col: number): number {
    if (!(rid >= 1 && rid <= this.rowCounts[table]!)) {
      throw new CorruptDataError(`${this.name}: row ${rid} of table ${TABLE_NAMES[table] ?? table} does not exist (${this.rowCounts[table] ?? 0} rows)`);
    }
    const o = this.tableOffsets[table]! + (rid - 1) * this.rowSizes[table]! + this.colOffsets[table]![col]!;
    const size = this.colSizes[table]![col]!;
    if (size === 4) return this.view.getUint32(o, true);
    return this.view.getUint16(o, true) & this.colMasks[table]![col]!;
  }

  /** A coded-index cell decoded to a token (row 0 gives the nil token of the tagged table). */
  codedCell(table: number, rid: number, col: number): number {
    const kind = this.codedKinds[table]![col];
    if (!kind) throw new Error(`column ${col} of table ${TABLE_NAMES[table]} is not a coded index`);
    return this.decodeCoded(kind, this.cell(table, rid, col));
  }

  decodeCoded(kind: CodedKind, raw: number): number {
    const bits = codedBits(kind);
    const t = (CODED[kind] as readonly number[])[raw & ((1 << bits) - 1)];
    if (t === undefined || t < 0) throw new CorruptDataError(`${this.name}: ${kind} coded index 0x${raw.toString(16)} has an unused tag`);
    return token(t, raw >>> bits);
  }

  /** Row `rid` of `table` as an object keyed by column name (for tools and tests, not hot paths). */
  row(table: number, rid: number): Record<string, number> {
    const names = Object.keys(COL[TABLE_NAMES[table] as keyof typeof COL]);
    const out: Record<string, number> = {};
    names.forEach((n, i) => (out[n] = this.codedKinds[table]![i] ? this.codedCell(table, rid, i) : this.cell(table, rid, i)));
    return out;
  }

  string(offset: number): string {
    return this.strings.get(offset);
  }
  blob(offset: number): Uint8Array {
    return this.blobs.get(offset);
  }

  /** Whether a token names an existing row (or a #US entry). */
  isValidToken(tok: number): boolean {
    const t = tokenTable(tok);
    const rid = tokenRid(tok);
    if (t === 0x70) return rid < this.userStrings.size && rid > 0;
    return t < 64 && SCHEMA_BY_ID[t] !== undefined && rid >= 1 && rid <= this.rowCounts[t]!;
  }

  // ---- common rows -----------------------------------------------------------------------------

  moduleName(): string {
    return this.rowCounts[T.Module] ? this.string(this.cell(T.Module, 1, COL.Module.Name)) : "";
  }
  moduleMvid(): string {
    return this.guids.get(this.cell(T.Module, 1, COL.Module.Mvid));
  }
  /** The assembly's simple name ("" for a module without an Assembly row). */
  assemblyName(): string {
    return this.rowCounts[T.Assembly] ? this.string(this.cell(T.Assembly, 1, COL.Assembly.Name)) : "";
  }
  assemblyVersion(): string {
    if (!this.rowCounts[T.Assembly]) return "";
    const c = COL.Assembly;
    return [c.MajorVersion, c.MinorVersion, c.BuildNumber, c.RevisionNumber].map((k) => this.cell(T.Assembly, 1, k)).join(".");
  }
  assemblyRefName(rid: number): string {
    return this.string(this.cell(T.AssemblyRef, rid, COL.AssemblyRef.Name));
  }
  assemblyRefVersion(rid: number): string {
    const c = COL.AssemblyRef;
    return [c.MajorVersion, c.MinorVersion, c.BuildNumber, c.RevisionNumber].map((k) => this.cell(T.AssemblyRef, rid, k)).join(".");
  }
  moduleRefName(rid: number): string {
    return this.string(this.cell(T.ModuleRef, rid, COL.ModuleRef.Name));
  }

  typeDefName(rid: number): string {
    return this.string(this.cell(T.TypeDef, rid, COL.TypeDef.Name));
  }
  typeDefNamespace(rid: number): string {
    return this.string(this.cell(T.TypeDef, rid, COL.TypeDef.Namespace));
  }
  typeDefFlags(rid: number): number {
    return this.cell(T.TypeDef, rid, COL.TypeDef.Flags);
  }
  /** The base type token (0 when there is none). */
  typeDefExtends(rid: number): number {
    const tok = this.codedCell(T.TypeDef, rid, COL.TypeDef.Extends);
    return tokenRid(tok) === 0 ? 0 : tok;
  }

  typeRefName(rid: number): string {
    return this.string(this.cell(T.TypeRef, rid, COL.TypeRef.Name));
  }
  typeRefNamespace(rid: number): string {
    return this.string(this.cell(T.TypeRef, rid, COL.TypeRef.Namespace));
  }
  /** Resolution scope token (Module, ModuleRef, AssemblyRef, TypeRef); 0 when nil. */
  typeRefScope(rid: number): number {
    const tok = this.codedCell(T.TypeRef, rid, COL.TypeRef.ResolutionScope);
    return tokenRid(tok) === 0 ? 0 : tok;
  }

  methodName(rid: number): string {
    return this.string(this.cell(T.MethodDef, rid, COL.MethodDef.Name));
  }
  methodRva(rid: number): number {
    return this.cell(T.MethodDef, rid, COL.MethodDef.RVA);
  }
  methodImplFlags(rid: number): number {
    return this.cell(T.MethodDef, rid, COL.MethodDef.ImplFlags);
  }
  methodFlags(rid: number): number {
    return this.cell(T.MethodDef, rid, COL.MethodDef.Flags);
  }
  methodSignature(rid: number): Uint8Array {
    return this.blob(this.cell(T.MethodDef, rid, COL.MethodDef.Signature));
  }

  fieldName(rid: number): string {
    return this.string(this.cell(T.Field, rid, COL.Field.Name));
  }
  fieldFlags(rid: number): number {
    return this.cell(T.Field, rid, COL.Field.Flags);
  }
  fieldSignature(rid: number): Uint8Array {
    return this.blob(this.cell(T.Field, rid, COL.Field.Signature));
  }

  memberRefName(rid: number): string {
    return this.string(this.cell(T.MemberRef, rid, COL.MemberRef.Name));
  }
  memberRefParent(rid: number): number {
    return this.codedCell(T.MemberRef, rid, COL.MemberRef.Class);
  }
  memberRefSignature(rid: number): Uint8Array {
    return this.blob(this.cell(T.MemberRef, rid, COL.MemberRef.Signature));
  }
  /** Offset of a MemberRef's signature in the #Blob heap (SOS's dumpil reads past its end). */
  memberRefSignatureOffset(rid: number): number {
    return this.cell(T.MemberRef, rid, COL.MemberRef.Signature);
  }

  typeSpecSignature(rid: number): Uint8Array {
    return this.blob(this.cell(T.TypeSpec, rid, COL.TypeSpec.Signature));
  }
  methodSpecMethod(rid: number): number {
    return this.codedCell(T.MethodSpec, rid, COL.MethodSpec.Method);
  }
  methodSpecInstantiation(rid: number): Uint8Array {
    return this.blob(this.cell(T.MethodSpec, rid, COL.MethodSpec.Instantiation));
  }
  standAloneSignature(rid: number): Uint8Array {
    return this.blob(this.cell(T.StandAloneSig, rid, COL.StandAloneSig.Signature));
  }
  paramName(rid: number): string {
    return this.string(this.cell(T.Param, rid, COL.Param.Name));
  }
  paramSequence(rid: number): number {
    return this.cell(T.Param, rid, COL.Param.Sequence);
  }

  // ---- member lists ----------------------------------------------------------------------------

  /** The list positions of a TypeDef's fields (map them with fieldAt). */
  fieldRange(typeRid: number): ListRange {
    return this.listRange(T.TypeDef, typeRid, COL.TypeDef.FieldList, T.Field);
  }
  /** The list positions of a TypeDef's methods (map them with methodAt). */
  methodRange(typeRid: number): ListRange {
    return this.listRange(T.TypeDef, typeRid, COL.TypeDef.MethodList, T.MethodDef);
  }
  /** The list positions of a MethodDef's parameters (map them with paramAt). */
  paramRange(methodRid: number): ListRange {
    return this.listRange(T.MethodDef, methodRid, COL.MethodDef.ParamList, T.Param);
  }
  fieldAt(pos: number): number {
    return this.listAt(T.Field, pos);
  }
  methodAt(pos: number): number {
    return this.listAt(T.MethodDef, pos);
  }
  paramAt(pos: number): number {
    return this.listAt(T.Param, pos);
  }
  /** Field rids of a TypeDef, through FieldPtr when present. */
  fields(typeRid: number): number[] {
    return this.expand(this.fieldRange(typeRid), T.Field);
  }
  methods(typeRid: number): number[] {
    return this.expand(this.methodRange(typeRid), T.MethodDef);
  }
  params(methodRid: number): number[] {
    return this.expand(this.paramRange(methodRid), T.Param);
  }

  /** The TypeDef that declares a method (0 when no type's list holds it). */
  typeOfMethod(methodRid: number): number {
    return this.listOwner(T.TypeDef, COL.TypeDef.MethodList, T.MethodDef, methodRid);
  }
  /** The TypeDef that declares a field (0 when no type's list holds it). */
  typeOfField(fieldRid: number): number {
    return this.listOwner(T.TypeDef, COL.TypeDef.FieldList, T.Field, fieldRid);
  }
  /** The MethodDef a parameter belongs to (0 when none). */
  methodOfParam(paramRid: number): number {
    return this.listOwner(T.MethodDef, COL.MethodDef.ParamList, T.Param, paramRid);
  }

  private listRange(table: number, rid: number, col: number, target: number): ListRange {
    const ptr = PTR_TABLE[target]!;
    const count = this.rowCounts[ptr] ? this.rowCounts[ptr]! : this.rowCounts[target]!;
    // Clamp: a damaged list start must not make a range reach outside the target table.
    const clamp = (v: number): number => Math.min(Math.max(v, 1), count + 1);
    const start = clamp(this.cell(table, rid, col));
    const end = rid < this.rowCounts[table]! ? clamp(this.cell(table, rid + 1, col)) : count + 1;
    return { start, end: Math.max(start, end) };
  }

  private listAt(target: number, pos: number): number {
    const ptr = PTR_TABLE[target]!;
    return this.rowCounts[ptr] ? this.cell(ptr, pos, 0) : pos;
  }

  private expand(r: ListRange, target: number): number[] {
    const out: number[] = [];
    for (let p = r.start; p < r.end; p++) out.push(this.listAt(target, p));
    return out;
  }

  /** The list position of `rid` in `target`'s list (through the Ptr table when there is one). */
  private listPosition(target: number, rid: number): number {
    const ptr = PTR_TABLE[target]!;
    const n = this.rowCounts[ptr]!;
    if (!n) return rid;
    let inv = this.ptrInverse.get(ptr);
    if (!inv) {
      inv = new Uint32Array(this.rowCounts[target]! + 1);
      for (let p = 1; p <= n; p++) {
        const r = this.cell(ptr, p, 0);
        if (r < inv.length) inv[r] = p;
      }
      this.ptrInverse.set(ptr, inv);
    }
    return inv[rid] ?? 0;
  }

  private listOwner(table: number, col: number, target: number, rid: number): number {
    const pos = this.listPosition(target, rid);
    if (pos === 0) return 0;
    // List starts are non-decreasing: the owner is the last row whose list starts at or before pos.
    let lo = 1;
    let hi = this.rowCounts[table]!;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cell(table, mid, col) <= pos) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found === 0) return 0;
    const r = this.listRange(table, found, col, target);
    return pos >= r.start && pos < r.end ? found : 0;
  }

  // ---- nesting -----------------------------------------------------------------------------------

  /** The TypeDef rid enclosing `typeRid`, or 0 for a top-level type. */
  enclosingType(typeRid: number): number {
    if (!this.enclosing) this.buildNesting();
    return this.enclosing![typeRid] ?? 0;
  }

  /** The TypeDef rids nested directly in `typeRid`, in NestedClass table order. */
  nestedTypes(typeRid: number): number[] {
    if (!this.nestedLists) this.buildNesting();
    return this.nestedLists!.get(typeRid) ?? [];
  }

  private buildNesting(): void {
    const n = this.rowCounts[T.NestedClass]!;
    const enclosing = new Uint32Array(this.rowCounts[T.TypeDef]! + 1);
    const lists = new Map<number, number[]>();
    for (let r = 1; r <= n; r++) {
      const nested = this.cell(T.NestedClass, r, COL.NestedClass.NestedClass);
      const outer = this.cell(T.NestedClass, r, COL.NestedClass.EnclosingClass);
      if (nested < enclosing.length) enclosing[nested] = outer;
      let l = lists.get(outer);
      if (!l) lists.set(outer, (l = []));
      l.push(nested);
    }
    this.enclosing = enclosing;
    this.nestedLists = lists;
  }

  /** The TypeDef with this namespace and name directly inside `enclosing` (0: top level), or 0. */
  findTypeDef(namespace: string, name: string, enclosing = 0): number {
    if (!this.typeDefIndex) {
      this.typeDefIndex = new Map();
      for (let r = 1; r <= this.rowCounts[T.TypeDef]!; r++) {
        const key = `${this.enclosingType(r)}|${this.typeDefNamespace(r)}|${this.typeDefName(r)}`;
        if (!this.typeDefIndex.has(key)) this.typeDefIndex.set(key, r);
      }
    }
    return this.typeDefIndex.get(`${enclosing}|${namespace}|${name}`) ?? 0;
  }

  // ---- keyed lookups in sorted tables ----------------------------------------------------------

  /**
   * Rows of `table` whose column `col` (raw value) equals `value`: by binary search when the
   * table is marked sorted, else by a scan.
   */
  findRows(table: number, col: number, value: number): number[] {
    const n = this.rowCounts[table]!;
    const out: number[] = [];
    if (n === 0) return out;
    if (!this.isSorted(table)) {
      for (let r = 1; r <= n; r++) if (this.cell(table, r, col) === value) out.push(r);
      return out;
    }
    let lo = 1;
    let hi = n + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cell(table, mid, col) < value) lo = mid + 1;
      else hi = mid;
    }
    for (let r = lo; r <= n && this.cell(table, r, col) === value; r++) out.push(r);
    return out;
  }

  /** Encodes a token as the raw value of a coded index of `kind` (for findRows). */
  encodeCoded(kind: CodedKind, tok: number): number {
    const tag = (CODED[kind] as readonly number[]).indexOf(tokenTable(tok));
    if (tag < 0) throw new Error(`token 0x${tok.toString(16)} cannot be a ${kind}`);
    return tokenRid(tok) * (1 << codedBits(kind)) + tag;
  }

  /** GenericParam rids owned by a TypeDef or MethodDef token, in Number order. */
  genericParams(owner: number): number[] {
    const rows = this.findRows(T.GenericParam, COL.GenericParam.Owner, this.encodeCoded("TypeOrMethodDef", owner));
    return rows.sort((a, b) => this.cell(T.GenericParam, a, COL.GenericParam.Number) - this.cell(T.GenericParam, b, COL.GenericParam.Number));
  }
  genericParamName(rid: number): string {
    return this.string(this.cell(T.GenericParam, rid, COL.GenericParam.Name));
  }

  customAttributes(parent: number): number[] {
    return this.findRows(T.CustomAttribute, COL.CustomAttribute.Parent, this.encodeCoded("HasCustomAttribute", parent));
  }

  interfaceImpls(typeRid: number): number[] {
    return this.findRows(T.InterfaceImpl, COL.InterfaceImpl.Class, typeRid);
  }

  /** Packing size and class size of a TypeDef with a ClassLayout row. */
  classLayout(typeRid: number): { packingSize: number; classSize: number } | undefined {
    const r = this.findRows(T.ClassLayout, COL.ClassLayout.Parent, typeRid)[0];
    if (r === undefined) return undefined;
    return { packingSize: this.cell(T.ClassLayout, r, COL.ClassLayout.PackingSize), classSize: this.cell(T.ClassLayout, r, COL.ClassLayout.ClassSize) };
  }

  /** Explicit field offset (FieldLayout), or undefined. */
  fieldOffset(fieldRid: number): number | undefined {
    const r = this.findRows(T.FieldLayout, COL.FieldLayout.Field, fieldRid)[0];
    return r === undefined ? undefined : this.cell(T.FieldLayout, r, COL.FieldLayout.Offset);
  }

  /** RVA of a field's initial data (FieldRVA), or undefined. */
  fieldRva(fieldRid: number): number | undefined {
    const r = this.findRows(T.FieldRVA, COL.FieldRVA.Field, fieldRid)[0];
    return r === undefined ? undefined : this.cell(T.FieldRVA, r, COL.FieldRVA.RVA);
  }

  /** P/Invoke facts of a method (ImplMap), or undefined. */
  implMap(methodRid: number): { flags: number; importName: string; moduleRef: number } | undefined {
    const key = this.encodeCoded("MemberForwarded", token(T.MethodDef, methodRid));
    const r = this.findRows(T.ImplMap, COL.ImplMap.MemberForwarded, key)[0];
    if (r === undefined) return undefined;
    return {
      flags: this.cell(T.ImplMap, r, COL.ImplMap.MappingFlags),
      importName: this.string(this.cell(T.ImplMap, r, COL.ImplMap.ImportName)),
      moduleRef: this.cell(T.ImplMap, r, COL.ImplMap.ImportScope),
    };
  }

  /** Constant row of a Field, Param or Property token, or undefined. */
  constantOf(parent: number): number | undefined {
    return this.findRows(T.Constant, COL.Constant.Parent, this.encodeCoded("HasConstant", parent))[0];
  }

  /** MethodSemantics rows of a Property or Event token. */
  semantics(association: number): number[] {
    return this.findRows(T.MethodSemantics, COL.MethodSemantics.Association, this.encodeCoded("HasSemantics", association));
  }

  /** Property rids of a TypeDef (through PropertyMap). */
  properties(typeRid: number): number[] {
    this.propertyMapIndex ??= this.mapIndex(T.PropertyMap, COL.PropertyMap.Parent);
    const m = this.propertyMapIndex.get(typeRid);
    return m === undefined ? [] : this.expand(this.listRange(T.PropertyMap, m, COL.PropertyMap.PropertyList, T.Property), T.Property);
  }

  /** Event rids of a TypeDef (through EventMap). */
  events(typeRid: number): number[] {
    this.eventMapIndex ??= this.mapIndex(T.EventMap, COL.EventMap.Parent);
    const m = this.eventMapIndex.get(typeRid);
    return m === undefined ? [] : this.expand(this.listRange(T.EventMap, m, COL.EventMap.EventList, T.Event), T.Event);
  }

  private mapIndex(table: number, col: number): Map<number, number> {
    const out = new Map<number, number>();
    for (let r = 1; r <= this.rowCounts[table]!; r++) out.set(this.cell(table, r, col), r);
    return out;
  }
}

function bit(lo: number, hi: number, n: number): boolean {
  return n < 32 ? ((lo >>> n) & 1) === 1 : ((hi >>> (n - 32)) & 1) === 1;
}
