// DebugInfo contract (dotnet/runtime docs/design/datacontracts/DebugInfo.md; .NET 11 publishes it):
// the JIT's native-to-IL offset map ("bounds") of a method's code, read from the debug info blob
// its code header points at. The blob is nibble-encoded (3 value bits per nibble, high groups
// first, the low nibble of a byte first): a header with the chunk sizes, then the bounds chunk,
// whose entries are bit-packed [source type][native offset delta][IL offset + 3].
import { CorruptDataError } from "../../errors.js";
import { MAX_DEBUG_INFO_BYTES } from "../../limits.js";
import type { RuntimeTarget } from "./target.js";

/** IL offsets are stored plus 3, so that NO_MAPPING (-1), PROLOG (-2) and EPILOG (-3) encode as 2, 1, 0. */
const IL_OFFSET_BIAS = 3;
/** A first header value of 0 marks the "fat" header, which lists every chunk's size. */
const DEBUG_INFO_FAT = 0;
/** Chunk sizes a fat header lists: bounds, vars, uninstrumented bounds, patchpoint info, rich debug info, async info. */
const FAT_HEADER_SIZES = 6;

export interface OffsetMapping {
  nativeOffset: number;
  /** IL offset, or -1 (no mapping), -2 (prolog), -3 (epilog). */
  ilOffset: number;
  /** Source type flags: 1 call instruction, 2 stack empty, 4 async. */
  sourceType: number;
}

/** Reads the nibble stream of a byte buffer. */
class NibbleReader {
  private nibble = 0;

  constructor(private readonly bytes: Uint8Array) {}

  private next(): number {
    const byte = this.bytes[this.nibble >> 1];
    if (byte === undefined) throw new CorruptDataError("a method's debug info ends in the middle of a value (damaged)");
    const n = (this.nibble & 1) === 0 ? byte & 0xf : byte >> 4;
    this.nibble++;
    return n;
  }

  u32(): number {
    let value = 0;
    for (let i = 0; i < 11; i++) {
      const n = this.next();
      value = value * 8 + (n & 7);
      if ((n & 8) === 0) {
        if (value > 0xffffffff) break;
        return value;
      }
    }
    throw new CorruptDataError("a method's debug info holds a value longer than 32 bits (damaged)");
  }

  /** Signed: the magnitude shifted left by one, the sign in the low bit. */
  i32(): number {
    const v = this.u32();
    return v % 2 === 1 ? -Math.floor(v / 2) : v / 2;
  }

  /** Index of the first byte after the nibbles read. */
  nextByte(): number {
    return (this.nibble + 1) >> 1;
  }
}

/** Where the JIT keeps an IL variable over a native range (ICorDebugInfo::VarLoc; registers are ICorDebugInfo::RegNum). */
export type NativeVarLocation =
  | { kind: "register"; register: number }
  /** An XMM register: the unwound context has none. */
  | { kind: "fp-register"; register: number }
  | { kind: "register-byref"; register: number }
  | { kind: "stack"; baseRegister: number; offset: number }
  | { kind: "stack-byref"; baseRegister: number; offset: number }
  /** Split or floating-point stack locations, which have no single address (the DAC gives them none either). */
  | { kind: "other"; type: number };

export interface NativeVar {
  startOffset: number;
  /** First native offset past the range. */
  endOffset: number;
  /** IL variable number: arguments first (`this` is 0), then locals; negative for the runtime's own (-2 return buffer, -3 generic context). */
  varNumber: number;
  location: NativeVarLocation;
}

/**
 * ICorDebugInfo::MAX_ILNUM: variable numbers are stored minus it, so that the special negative ones
 * encode unsigned. -4 up to .NET 10; .NET 11.0.0's debug info stores argument 0 as 6 (two more
 * special numbers), which SOS's answers on 11.0.0 dumps confirm.
 */
const MAX_ILNUM = -6;
/** ICorDebugInfo::VarLocType values with a single location. */
const VLT = { REG: 0, REG_BYREF: 1, REG_FP: 2, STK: 3, STK_BYREF: 4, REG_REG: 5, REG_STK: 6, STK_REG: 7, STK2: 8, FPSTK: 9, FIXED_VA: 10 } as const;

export class DebugInfoContract {
  private readonly cache = new Map<number, OffsetMapping[]>();
  private readonly varsCache = new Map<number, NativeVar[]>();

  constructor(private readonly t: RuntimeTarget) {}

  /** Whether this runtime publishes the DebugInfo contract. */
  static isPublished(t: RuntimeTarget): boolean {
    return t.descriptor.contractVersion("DebugInfo") !== undefined;
  }

  /**
   * The native-to-IL map of the debug info at `debugInfo` (instrumented bounds, which are the
   * method's own when the IL was not rewritten), in native offset order.
   */
  bounds(debugInfo: number, codeSize: number | undefined): OffsetMapping[] {
    let map = this.cache.get(debugInfo);
    if (!map) {
      map = this.decode(debugInfo, codeSize);
      this.cache.set(debugInfo, map);
    }
    return map;
  }

  /** The chunk sizes the header lists, and the first byte after the header. */
  private header(debugInfo: number): { boundsSize: number; varsSize: number; headerBytes: number } {
    const header = new NibbleReader(this.readUpTo(debugInfo, 64));
    const first = header.u32();
    if (first === DEBUG_INFO_FAT) {
      const sizes = Array.from({ length: FAT_HEADER_SIZES }, () => header.u32());
      return { boundsSize: sizes[0]!, varsSize: sizes[1]!, headerBytes: header.nextByte() };
    }
    const varsSize = header.u32();
    return { boundsSize: first, varsSize, headerBytes: header.nextByte() };
  }

  /**
   * The native variable table of the debug info at `debugInfo` (the chunk after the bounds): where
   * each IL argument and local lives over which native range. Entries are in no particular order.
   */
  vars(debugInfo: number): NativeVar[] {
    let vars = this.varsCache.get(debugInfo);
    if (!vars) {
      vars = this.decodeVars(debugInfo);
      this.varsCache.set(debugInfo, vars);
    }
    return vars;
  }

  private decodeVars(debugInfo: number): NativeVar[] {
    const { boundsSize, varsSize, headerBytes } = this.header(debugInfo);
    if (varsSize === 0) return [];
    if (varsSize > MAX_DEBUG_INFO_BYTES) throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} claims ${varsSize} bytes of variables (damaged)`);
    const r = new NibbleReader(this.t.memory.read(debugInfo + headerBytes + boundsSize, varsSize));
    const count = r.u32();
    // Each entry takes at least 5 nibbles: a count past that is damage, not a table.
    if (count * 5 > varsSize * 2) throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} claims ${count} variables in ${varsSize} bytes (damaged)`);
    const out: NativeVar[] = [];
    for (let i = 0; i < count; i++) {
      // .NET 11 writes the variable number first (checked against SOS on 11.0.0 dumps: `this` and
      // the arguments are 0.., homed from their argument registers at native offset 0).
      const varNumber = r.u32() + MAX_ILNUM;
      const startOffset = r.u32();
      const endOffset = startOffset + r.u32();
      const type = r.u32();
      let location: NativeVarLocation;
      switch (type) {
        case VLT.REG:
          location = { kind: "register", register: r.u32() };
          break;
        case VLT.REG_FP:
          location = { kind: "fp-register", register: r.u32() };
          break;
        case VLT.REG_BYREF:
          location = { kind: "register-byref", register: r.u32() };
          break;
        case VLT.STK:
        case VLT.STK_BYREF: {
          const baseRegister = r.u32();
          const offset = r.i32();
          location = type === VLT.STK ? { kind: "stack", baseRegister, offset } : { kind: "stack-byref", baseRegister, offset };
          break;
        }
        case VLT.REG_REG:
          r.u32();
          r.u32();
          location = { kind: "other", type };
          break;
        case VLT.REG_STK:
          r.u32();
          r.u32();
          r.i32();
          location = { kind: "other", type };
          break;
        case VLT.STK_REG:
          r.i32();
          r.u32();
          r.u32();
          location = { kind: "other", type };
          break;
        case VLT.STK2:
          r.u32();
          r.i32();
          location = { kind: "other", type };
          break;
        case VLT.FPSTK:
        case VLT.FIXED_VA:
          r.u32();
          location = { kind: "other", type };
          break;
        default:
          throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} has a variable location of unknown type ${type} (damaged)`);
      }
      out.push({ startOffset, endOffset, varNumber, location });
    }
    return out;
  }

  private decode(debugInfo: number, codeSize: number | undefined): OffsetMapping[] {
    const { boundsSize, headerBytes } = this.header(debugInfo);
    if (boundsSize === 0) return [];
    if (boundsSize > MAX_DEBUG_INFO_BYTES) throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} claims ${boundsSize} bytes of bounds (damaged)`);
    const bytes = this.t.memory.read(debugInfo + headerBytes, boundsSize);
    const r = new NibbleReader(bytes);
    const count = r.u32();
    const nativeBits = r.u32() + 1;
    const ilBits = r.u32() + 1;
    // The source type takes 3 bits (.NET 11: call instruction, stack empty, async flags).
    const sourceBits = 3;
    const entryBits = sourceBits + nativeBits + ilBits;
    if (nativeBits > 32 || ilBits > 32 || count * entryBits > (bytes.length - r.nextByte()) * 8) {
      throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} has an impossible bounds table (${count} entries of ${entryBits} bits in ${bytes.length} bytes)`);
    }
    const out: OffsetMapping[] = [];
    let bit = r.nextByte() * 8;
    let native = 0;
    const field = (width: number): number => {
      let v = 0;
      for (let i = 0; i < width; i++, bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) v += 2 ** i;
      return v;
    };
    for (let i = 0; i < count; i++) {
      const sourceType = field(sourceBits);
      native += field(nativeBits);
      const ilOffset = field(ilBits) - IL_OFFSET_BIAS;
      if (codeSize !== undefined && native > codeSize) throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} maps native offset 0x${native.toString(16)}, past its ${codeSize} bytes of code (damaged)`);
      out.push({ nativeOffset: native, ilOffset, sourceType });
    }
    return out;
  }

  private readUpTo(address: number, length: number): Uint8Array {
    for (let n = length; n >= 1; n >>= 1) {
      const b = this.t.memory.tryRead(address, n);
      if (b) return b;
    }
    return this.t.memory.read(address, 1);
  }

  /**
   * The IL offsets of native offset `offset` as the DAC's GetILOffsetsByAddress gives them: of each
   * entry whose native range (to the next entry's offset) holds it.
   */
  static ilOffsetsAt(map: OffsetMapping[], offset: number): number[] {
    const out: number[] = [];
    map.forEach((m, i) => {
      const next = map[i + 1];
      if (offset >= m.nativeOffset && (next === undefined || offset < next.nativeOffset)) out.push(m.ilOffset);
    });
    return out;
  }
}
