// IL method bodies (ECMA-335 II.25.4): the tiny or fat header, the code, and the extra data
// sections holding exception clauses (small or fat). And the instruction stream: one decoded
// instruction at a time, operands by the opcode table (opcodes.ts). All sizes and counts come from
// the body and are checked against the bytes given; damage is a CorruptDataError.
import { BinaryReader } from "../dump/binary-reader.js";
import { CorruptDataError } from "../errors.js";
import { ONE_BYTE, OPERAND_SIZE, TWO_BYTE, type OpcodeInfo } from "./opcodes.js";

const TINY_FORMAT = 0x2;
const FAT_FORMAT = 0x3;
const MORE_SECTS = 0x8;
const INIT_LOCALS = 0x10;
const SECT_EH_TABLE = 0x1;
const SECT_FAT_FORMAT = 0x40;
const SECT_MORE_SECTS = 0x80;
const SMALL_CLAUSE = 12;
const FAT_CLAUSE = 24;

export type ClauseKind = "catch" | "filter" | "finally" | "fault";
const CLAUSE_KINDS: Record<number, ClauseKind> = { 0: "catch", 1: "filter", 2: "finally", 4: "fault" };

export interface ExceptionClause {
  /** The raw flags (COR_ILEXCEPTION_CLAUSE_*): 0 catch, 1 filter, 2 finally, 4 fault. */
  flags: number;
  /** The clause kind, or undefined for flags the spec does not define. */
  kind: ClauseKind | undefined;
  tryOffset: number;
  tryLength: number;
  handlerOffset: number;
  handlerLength: number;
  /** The catch type token (catch clauses), else 0. */
  classToken: number;
  /** Start of the filter block (filter clauses), else 0. */
  filterOffset: number;
}

export interface MethodBody {
  fat: boolean;
  headerSize: number;
  maxStack: number;
  codeSize: number;
  /** StandAloneSig token of the locals (0 when none or tiny). */
  localVarSigToken: number;
  initLocals: boolean;
  code: Uint8Array;
  clauses: ExceptionClause[];
  /** Bytes from the header to the end of the last section: what the body occupies in the image. */
  totalSize: number;
  /** The clauses of the first EH section only (what the runtime's COR_ILMETHOD_DECODER exposes). */
  firstSectionClauseCount: number;
}

/**
 * Parses the body starting at `bytes[0]`. `bytes` may extend past the body (a read of "enough"
 * bytes); it must not end before it.
 */
export function parseMethodBody(bytes: Uint8Array, what = "method body"): MethodBody {
  const r = new BinaryReader(bytes, what);
  const first = r.u8(0);
  if ((first & 3) === TINY_FORMAT) {
    const codeSize = first >> 2;
    r.check(1, codeSize);
    return {
      fat: false,
      headerSize: 1,
      maxStack: 8,
      codeSize,
      localVarSigToken: 0,
      initLocals: false,
      code: bytes.subarray(1, 1 + codeSize),
      clauses: [],
      totalSize: 1 + codeSize,
      firstSectionClauseCount: 0,
    };
  }
  if ((first & 3) !== FAT_FORMAT) throw new CorruptDataError(`${what}: header byte 0x${first.toString(16)} is neither tiny nor fat`);
  const flags = r.u16(0);
  const headerSize = (flags >> 12) * 4;
  if (headerSize < 12) throw new CorruptDataError(`${what}: fat header claims ${headerSize} bytes`);
  const maxStack = r.u16(2);
  const codeSize = r.u32(4);
  const localVarSigToken = r.u32(8);
  r.check(headerSize, codeSize);
  const body: MethodBody = {
    fat: true,
    headerSize,
    maxStack,
    codeSize,
    localVarSigToken,
    initLocals: (flags & INIT_LOCALS) !== 0,
    code: bytes.subarray(headerSize, headerSize + codeSize),
    clauses: [],
    totalSize: headerSize + codeSize,
    firstSectionClauseCount: 0,
  };
  if (flags & MORE_SECTS) readSections(r, align4(headerSize + codeSize), body);
  return body;
}

function readSections(r: BinaryReader, start: number, body: MethodBody): void {
  let pos = start;
  let firstEh = true;
  // Each section advances pos by at least 4 bytes, so the walk ends within the input.
  for (;;) {
    const kind = r.u8(pos);
    const fat = (kind & SECT_FAT_FORMAT) !== 0;
    const dataSize = fat ? r.u32(pos) >>> 8 : r.u8(pos + 1);
    if (dataSize < 4) throw new CorruptDataError(`${r.what}: extra data section at ${pos} claims ${dataSize} bytes`);
    r.check(pos, dataSize);
    if (kind & SECT_EH_TABLE) {
      const clauseSize = fat ? FAT_CLAUSE : SMALL_CLAUSE;
      const count = Math.floor((dataSize - 4) / clauseSize);
      for (let i = 0; i < count; i++) body.clauses.push(readClause(r, pos + 4 + i * clauseSize, fat));
      if (firstEh) body.firstSectionClauseCount = count;
      firstEh = false;
    }
    body.totalSize = pos + dataSize;
    if (!(kind & SECT_MORE_SECTS)) break;
    pos = align4(pos + dataSize);
  }
}

function readClause(r: BinaryReader, o: number, fat: boolean): ExceptionClause {
  const c = fat
    ? { flags: r.u32(o), tryOffset: r.u32(o + 4), tryLength: r.u32(o + 8), handlerOffset: r.u32(o + 12), handlerLength: r.u32(o + 16), extra: r.u32(o + 20) }
    : { flags: r.u16(o), tryOffset: r.u16(o + 2), tryLength: r.u8(o + 4), handlerOffset: r.u16(o + 5), handlerLength: r.u8(o + 7), extra: r.u32(o + 8) };
  const kind = CLAUSE_KINDS[c.flags];
  return {
    flags: c.flags,
    kind,
    tryOffset: c.tryOffset,
    tryLength: c.tryLength,
    handlerOffset: c.handlerOffset,
    handlerLength: c.handlerLength,
    classToken: kind === "catch" ? c.extra : 0,
    filterOffset: kind === "filter" ? c.extra : 0,
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

// ---- instructions -------------------------------------------------------------------------------

export interface Instruction {
  offset: number;
  opcode: OpcodeInfo;
  /** Bytes of opcode plus operand. */
  size: number;
  /**
   * The operand: a number for integer, variable, token and float kinds (floats decoded), a bigint
   * for InlineI8, the absolute target for branches, the absolute targets for switch.
   */
  operand: number | bigint | number[] | undefined;
  /** The operand bytes as stored (floats keep their exact bits here). */
  operandBytes: Uint8Array;
}

/** Decodes the instruction at `offset` of `code`; CorruptDataError if it runs past the end. */
export function decodeInstruction(code: Uint8Array, offset: number): Instruction {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  let pos = offset;
  const need = (n: number): void => {
    if (pos + n > code.length) throw new CorruptDataError(`IL instruction at IL_${hex4(offset)} runs past the end of the code (${code.length} bytes)`);
  };
  need(1);
  let opcode = ONE_BYTE[code[pos]!]!;
  pos++;
  if (opcode.code === 0xfe) {
    need(1);
    opcode = TWO_BYTE[code[pos]!]!;
    pos++;
  }
  const size = OPERAND_SIZE[opcode.operand];
  need(size);
  const operandStart = pos;
  let operand: Instruction["operand"];
  switch (opcode.operand) {
    case "InlineNone":
      break;
    case "ShortInlineVar":
      operand = code[pos]!;
      break;
    case "InlineVar":
      operand = view.getUint16(pos, true);
      break;
    case "ShortInlineI":
      operand = view.getInt8(pos);
      break;
    case "InlineI":
      operand = view.getInt32(pos, true);
      break;
    case "InlineI8":
      operand = view.getBigInt64(pos, true);
      break;
    case "ShortInlineR":
      operand = view.getFloat32(pos, true);
      break;
    case "InlineR":
      operand = view.getFloat64(pos, true);
      break;
    case "ShortInlineBrTarget":
      operand = pos + 1 + view.getInt8(pos);
      break;
    case "InlineBrTarget":
      operand = pos + 4 + view.getInt32(pos, true);
      break;
    case "InlineSwitch": {
      const n = view.getUint32(pos, true);
      pos += 4;
      if (n > (code.length - pos) / 4) throw new CorruptDataError(`IL switch at IL_${hex4(offset)} claims ${n} targets, more than the code holds`);
      const end = pos + 4 * n;
      const targets: number[] = [];
      for (let i = 0; i < n; i++) targets.push(end + view.getInt32(pos + 4 * i, true));
      return { offset, opcode, size: end - offset, operand: targets, operandBytes: code.subarray(operandStart, end) };
    }
    default:
      operand = view.getUint32(pos, true); // a metadata token
  }
  pos += size;
  return { offset, opcode, size: pos - offset, operand, operandBytes: code.subarray(operandStart, pos) };
}

/** Every instruction of `code`, in order. */
export function decodeInstructions(code: Uint8Array): Instruction[] {
  const out: Instruction[] = [];
  for (let pos = 0; pos < code.length; ) {
    const ins = decodeInstruction(code, pos);
    out.push(ins);
    pos += ins.size;
  }
  return out;
}

/**
 * The operand in a fixed, tool-neutral text: integers signed decimal, variables unsigned, tokens
 * 0x%08x, branch targets absolute decimal, switch targets comma-separated, floats as their
 * little-endian bytes in hex. (The form the metadata oracle prints.)
 */
export function operandText(ins: Instruction): string {
  switch (ins.opcode.operand) {
    case "InlineNone":
      return "";
    case "ShortInlineR":
    case "InlineR":
      return Array.from(ins.operandBytes, (b) => b.toString(16).padStart(2, "0")).join("");
    case "InlineSwitch":
      return (ins.operand as number[]).join(",");
    case "InlineMethod":
    case "InlineField":
    case "InlineType":
    case "InlineTok":
    case "InlineSig":
    case "InlineString":
      return `0x${(ins.operand as number).toString(16).padStart(8, "0")}`;
    default:
      return String(ins.operand);
  }
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
