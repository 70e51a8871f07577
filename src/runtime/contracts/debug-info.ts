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

  /** Index of the first byte after the nibbles read. */
  nextByte(): number {
    return (this.nibble + 1) >> 1;
  }
}

export class DebugInfoContract {
  private readonly cache = new Map<number, OffsetMapping[]>();

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

  private decode(debugInfo: number, codeSize: number | undefined): OffsetMapping[] {
    const header = new NibbleReader(this.readUpTo(debugInfo, 64));
    const first = header.u32();
    let boundsSize: number;
    if (first === DEBUG_INFO_FAT) {
      const sizes = Array.from({ length: FAT_HEADER_SIZES }, () => header.u32());
      boundsSize = sizes[0]!;
    } else {
      boundsSize = first;
      header.u32(); // vars size
    }
    if (boundsSize === 0) return [];
    if (boundsSize > MAX_DEBUG_INFO_BYTES) throw new CorruptDataError(`a method's debug info at 0x${debugInfo.toString(16)} claims ${boundsSize} bytes of bounds (damaged)`);
    const bytes = this.t.memory.read(debugInfo + header.nextByte(), boundsSize);
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
