// Portable PDB (dotnet/runtime docs/design/specs/PortablePdb-Metadata.md): ECMA-335 metadata
// whose #~ stream holds the debug tables (Document 0x30, MethodDebugInformation 0x31, LocalScope
// 0x32, LocalVariable 0x33, ...) and whose #Pdb stream gives the PDB id and the row counts of
// the type-system tables it indexes. Read here: each method's sequence points (IL offset ->
// document and line) and the names of its local variables by slot and IL range.
import { CorruptDataError, UnsupportedFormatError } from "../errors.js";
import { BlobHeap, readCompressed, StringHeap } from "./heaps.js";
import { readMetadataRoot } from "./metadata.js";
import { formatGuid } from "./pe.js";
import { MAX_SEQUENCE_POINTS } from "../limits.js";

const DOCUMENT = 0x30;
const METHOD_DEBUG_INFORMATION = 0x31;
const LOCAL_SCOPE = 0x32;
const LOCAL_VARIABLE = 0x33;
const LOCAL_CONSTANT = 0x34;
const IMPORT_SCOPE = 0x35;
const STATE_MACHINE_METHOD = 0x36;
const CUSTOM_DEBUG_INFORMATION = 0x37;
const METHOD_DEF = 0x06;
/** The line number the spec reserves for hidden sequence points. */
export const HIDDEN_LINE = 0xfeefee;

export interface SequencePoint {
  ilOffset: number;
  /** Document row (1-based). */
  document: number;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  hidden: boolean;
}

export interface LocalVariableName {
  /** The IL local slot. */
  index: number;
  name: string;
  /** LocalVariableAttributes: 1 = DebuggerHidden (compiler-generated). */
  attributes: number;
}

/** A signed compressed integer (II.23.2, "rotated" two's complement). */
function readSignedCompressed(bytes: Uint8Array, pos: number, limit: number, what: string): { value: number; size: number } {
  const { value, size } = readCompressed(bytes, pos, limit, what);
  const magnitude = value >>> 1;
  if ((value & 1) === 0) return { value: magnitude, size };
  const bias = size === 1 ? 0x40 : size === 2 ? 0x2000 : 0x10000000;
  return { value: magnitude - bias, size };
}

export class PortablePdb {
  /** The PDB id: a GUID (the module's CodeView GUID) and a stamp. */
  readonly guid: string;
  private readonly view: DataView;
  private readonly strings: StringHeap;
  private readonly blobs: BlobHeap;
  private readonly rows = new Uint32Array(64);
  private readonly tableAt = new Float64Array(64);
  private readonly rowSize = new Uint32Array(64);
  private readonly stringWidth: number;
  private readonly guidWidth: number;
  private readonly blobWidth: number;

  constructor(
    bytes: Uint8Array,
    readonly name = "portable PDB",
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { streams } = readMetadataRoot(bytes, name);
    const stream = (n: string) => streams.find((s) => s.name === n);
    const pdb = stream("#Pdb");
    const tables = stream("#~");
    if (!pdb || !tables) throw new UnsupportedFormatError(`${name}: not a portable PDB (no #Pdb or #~ stream)`);
    const s = stream("#Strings") ?? { offset: 0, size: 0 };
    const b = stream("#Blob") ?? { offset: 0, size: 0 };
    this.strings = new StringHeap(bytes, s.offset, s.size, `${name} #Strings`);
    this.blobs = new BlobHeap(bytes, b.offset, b.size, `${name} #Blob`);

    // #Pdb: PdbId (20), EntryPoint (4), ReferencedTypeSystemTables (8), then one row count per set bit.
    if (pdb.size < 32) throw new CorruptDataError(`${name}: #Pdb stream of ${pdb.size} bytes is too short`);
    this.guid = formatGuid(bytes, pdb.offset);
    const externalLo = this.view.getUint32(pdb.offset + 24, true);
    const externalHi = this.view.getUint32(pdb.offset + 28, true);
    let pos = pdb.offset + 32;
    const typeSystemRows = new Uint32Array(64);
    for (let t = 0; t < 64; t++) {
      if (!((t < 32 ? externalLo >>> t : externalHi >>> (t - 32)) & 1)) continue;
      if (pos + 4 > pdb.offset + pdb.size) throw new CorruptDataError(`${name}: #Pdb row counts run past the stream`);
      typeSystemRows[t] = this.view.getUint32(pos, true);
      pos += 4;
    }

    // #~ header: the same layout as a type-system tables stream.
    const ts = tables.offset;
    if (tables.size < 24) throw new CorruptDataError(`${name}: tables stream of ${tables.size} bytes is too short`);
    const heapSizes = bytes[ts + 6]!;
    this.stringWidth = heapSizes & 1 ? 4 : 2;
    this.guidWidth = heapSizes & 2 ? 4 : 2;
    this.blobWidth = heapSizes & 4 ? 4 : 2;
    const validLo = this.view.getUint32(ts + 8, true);
    const validHi = this.view.getUint32(ts + 12, true);
    pos = ts + 24;
    const present: number[] = [];
    for (let t = 0; t < 64; t++) {
      if (!((t < 32 ? validLo >>> t : validHi >>> (t - 32)) & 1)) continue;
      if (t < DOCUMENT || t > CUSTOM_DEBUG_INFORMATION) throw new UnsupportedFormatError(`${name}: table 0x${t.toString(16)} in a standalone portable PDB`);
      if (pos + 4 > ts + tables.size) throw new CorruptDataError(`${name}: row counts run past the tables stream`);
      this.rows[t] = this.view.getUint32(pos, true);
      present.push(t);
      pos += 4;
    }
    const index = (rows: number) => (rows < 0x10000 ? 2 : 4);
    const idx = (t: number) => index(this.rows[t]!);
    const coded = (bits: number, tables: number[]) => (Math.max(0, ...tables.map((t) => this.rows[t]! || typeSystemRows[t]!)) < 1 << (16 - bits) ? 2 : 4);
    const sizes: Record<number, number> = {
      [DOCUMENT]: this.blobWidth + this.guidWidth + this.blobWidth + this.guidWidth,
      [METHOD_DEBUG_INFORMATION]: idx(DOCUMENT) + this.blobWidth,
      [LOCAL_SCOPE]: index(typeSystemRows[METHOD_DEF]!) + idx(IMPORT_SCOPE) + idx(LOCAL_VARIABLE) + idx(LOCAL_CONSTANT) + 8,
      [LOCAL_VARIABLE]: 4 + this.stringWidth,
      [LOCAL_CONSTANT]: this.stringWidth + this.blobWidth,
      [IMPORT_SCOPE]: idx(IMPORT_SCOPE) + this.blobWidth,
      [STATE_MACHINE_METHOD]: 2 * index(typeSystemRows[METHOD_DEF]!),
      // HasCustomDebugInformation: 5 tag bits over every table that can carry it; 4 bytes when any is large.
      [CUSTOM_DEBUG_INFORMATION]: coded(5, [...Array(0x38).keys()]) + this.guidWidth + this.blobWidth,
    };
    for (const t of present) {
      this.rowSize[t] = sizes[t]!;
      this.tableAt[t] = pos;
      pos += this.rowSize[t]! * this.rows[t]!;
    }
    if (pos > ts + tables.size) throw new CorruptDataError(`${name}: tables run past the tables stream`);
  }

  /** Rows of MethodDebugInformation: one per MethodDef of the module. */
  get methodCount(): number {
    return this.rows[METHOD_DEBUG_INFORMATION]!;
  }

  private cell(table: number, rid: number, offset: number, width: number): number {
    if (!(rid >= 1 && rid <= this.rows[table]!)) throw new CorruptDataError(`${this.name}: row ${rid} of table 0x${table.toString(16)} does not exist`);
    const at = this.tableAt[table]! + (rid - 1) * this.rowSize[table]! + offset;
    return width === 2 ? this.view.getUint16(at, true) : this.view.getUint32(at, true);
  }

  /** A Document's name: its blob is a separator byte and UTF-8 parts joined by it. */
  documentName(rid: number): string {
    const blob = this.blobs.get(this.cell(DOCUMENT, rid, 0, this.blobWidth));
    if (blob.length === 0) return "";
    const separator = blob[0] === 0 ? "" : String.fromCharCode(blob[0]!);
    const parts: string[] = [];
    for (let pos = 1; pos < blob.length; ) {
      const { value, size } = readCompressed(blob, pos, blob.length, `${this.name} document name`);
      pos += size;
      parts.push(value === 0 ? "" : new TextDecoder().decode(this.blobs.get(value)));
    }
    return parts.join(separator);
  }

  /** The sequence points of a MethodDef (row id), in IL order; [] when the PDB has none for it. */
  sequencePoints(methodRid: number): SequencePoint[] {
    if (!(methodRid >= 1 && methodRid <= this.rows[METHOD_DEBUG_INFORMATION]!)) return [];
    const docWidth = this.rows[DOCUMENT]! < 0x10000 ? 2 : 4;
    let document = this.cell(METHOD_DEBUG_INFORMATION, methodRid, 0, docWidth);
    const blobIndex = this.cell(METHOD_DEBUG_INFORMATION, methodRid, docWidth, this.blobWidth);
    if (blobIndex === 0) return [];
    const blob = this.blobs.get(blobIndex);
    const what = `${this.name} sequence points of method ${methodRid}`;
    const read = (signed = false) => {
      const r = (signed ? readSignedCompressed : readCompressed)(blob, pos, blob.length, what);
      pos += r.size;
      return r.value;
    };
    let pos = 0;
    read(); // LocalSignature (StandAloneSig row)
    if (document === 0) document = read();
    const points: SequencePoint[] = [];
    let ilOffset = 0;
    let startLine = 0;
    let startColumn = 0;
    let seenVisible = false;
    while (pos < blob.length && points.length < MAX_SEQUENCE_POINTS) {
      const deltaIl = read();
      if (deltaIl === 0 && points.length > 0) {
        document = read(); // document-record
        continue;
      }
      ilOffset += deltaIl;
      const deltaLines = read();
      const deltaColumns = deltaLines === 0 ? read() : read(true);
      if (deltaLines === 0 && deltaColumns === 0) {
        points.push({ ilOffset, document, startLine: HIDDEN_LINE, startColumn: 0, endLine: HIDDEN_LINE, endColumn: 0, hidden: true });
        continue;
      }
      if (seenVisible) {
        startLine += read(true);
        startColumn += read(true);
      } else {
        startLine = read();
        startColumn = read();
        seenVisible = true;
      }
      points.push({ ilOffset, document, startLine, startColumn, endLine: startLine + deltaLines, endColumn: startColumn + deltaColumns, hidden: false });
    }
    return points;
  }

  /**
   * The source line of an IL offset as SOS finds it: the last visible sequence point at or
   * before the offset; undefined when there is none.
   */
  sourceLine(methodRid: number, ilOffset: number): { file: string; line: number } | undefined {
    let nearest: SequencePoint | undefined;
    for (const p of this.sequencePoints(methodRid)) {
      if (p.ilOffset > ilOffset) break;
      if (!p.hidden && p.startLine !== 0) nearest = p;
    }
    return nearest ? { file: this.documentName(nearest.document), line: nearest.startLine } : undefined;
  }

  /** Names of a method's local variables in the scopes that cover `ilOffset`, by IL slot. */
  localNames(methodRid: number, ilOffset: number): Map<number, LocalVariableName> {
    const out = new Map<number, LocalVariableName>();
    const scopes = this.rows[LOCAL_SCOPE]!;
    if (scopes === 0) return out;
    const methodWidth = this.rowSize[LOCAL_SCOPE]! - 8 - (this.rows[IMPORT_SCOPE]! < 0x10000 ? 2 : 4) - (this.rows[LOCAL_VARIABLE]! < 0x10000 ? 2 : 4) - (this.rows[LOCAL_CONSTANT]! < 0x10000 ? 2 : 4);
    const importWidth = this.rows[IMPORT_SCOPE]! < 0x10000 ? 2 : 4;
    const varWidth = this.rows[LOCAL_VARIABLE]! < 0x10000 ? 2 : 4;
    const constWidth = this.rows[LOCAL_CONSTANT]! < 0x10000 ? 2 : 4;
    const varList = methodWidth + importWidth;
    const startAt = varList + varWidth + constWidth;
    // LocalScope is sorted by Method: a binary search finds the method's first row.
    let lo = 1;
    let hi = scopes + 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cell(LOCAL_SCOPE, mid, 0, methodWidth) < methodRid) lo = mid + 1;
      else hi = mid;
    }
    for (let r = lo; r <= scopes && this.cell(LOCAL_SCOPE, r, 0, methodWidth) === methodRid; r++) {
      const start = this.cell(LOCAL_SCOPE, r, startAt, 4);
      const length = this.cell(LOCAL_SCOPE, r, startAt + 4, 4);
      if (ilOffset < start || ilOffset >= start + length) continue;
      const first = this.cell(LOCAL_SCOPE, r, varList, varWidth);
      const end = r < scopes ? this.cell(LOCAL_SCOPE, r + 1, varList, varWidth) : this.rows[LOCAL_VARIABLE]! + 1;
      for (let v = first; v < end && v <= this.rows[LOCAL_VARIABLE]!; v++) {
        const attributes = this.cell(LOCAL_VARIABLE, v, 0, 2);
        const index = this.cell(LOCAL_VARIABLE, v, 2, 2);
        out.set(index, { index, attributes, name: this.strings.get(this.cell(LOCAL_VARIABLE, v, 4, this.stringWidth)) });
      }
    }
    return out;
  }
}
