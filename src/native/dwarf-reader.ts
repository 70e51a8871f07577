// A cursor over DWARF-encoded bytes: LEB128 numbers and the DW_EH_PE pointer encodings used by
// .eh_frame and .eh_frame_hdr. Every read is bounds-checked (CorruptDataError on overrun).
import { CorruptDataError } from "../errors.js";

export const DW_EH_PE_omit = 0xff;
const DW_EH_PE_absptr = 0x00;
const DW_EH_PE_uleb128 = 0x01;
const DW_EH_PE_udata2 = 0x02;
const DW_EH_PE_udata4 = 0x03;
const DW_EH_PE_udata8 = 0x04;
const DW_EH_PE_sleb128 = 0x09;
const DW_EH_PE_sdata2 = 0x0a;
const DW_EH_PE_sdata4 = 0x0b;
const DW_EH_PE_sdata8 = 0x0c;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_datarel = 0x30;
const DW_EH_PE_funcrel = 0x40;
const DW_EH_PE_indirect = 0x80;

export class DwarfCursor {
  private readonly view: DataView;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Target address of bytes[0], for pc-relative encodings. */
    readonly address: number,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new CorruptDataError(`${this.what}: read of ${n} bytes at ${this.pos} runs past its ${this.bytes.length} bytes`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** 64-bit value as a number; values beyond 2^53 only occur in corrupt data. */
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return Number(BigInt.asIntN(64, v));
  }
  u64big(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw new CorruptDataError(`${this.what}: LEB128 number longer than 10 bytes at ${this.pos}`);
  }
  sleb(): number {
    return Number(this.slebBig());
  }
  /** Exact 64-bit forms, for DWARF expression constants and offsets. */
  ulebBig(): bigint {
    let r = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.u8();
      r |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r;
    }
    throw new CorruptDataError(`${this.what}: LEB128 number longer than 10 bytes at ${this.pos}`);
  }
  slebBig(): bigint {
    let r = 0n;
    for (let shift = 0n; shift < 70n; ) {
      const b = this.u8();
      r |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return b & 0x40 ? r - (1n << shift) : r;
    }
    throw new CorruptDataError(`${this.what}: LEB128 number longer than 10 bytes at ${this.pos}`);
  }
  cstring(): string {
    const start = this.pos;
    while (this.u8() !== 0) {
      /* scan */
    }
    return new TextDecoder().decode(this.bytes.subarray(start, this.pos - 1));
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  block(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /**
   * A pointer in DW_EH_PE encoding. `dataBase` serves datarel (the .eh_frame_hdr start);
   * indirect pointers need memory and are resolved by `deref`.
   */
  encoded(encoding: number, dataBase = 0, deref?: (address: number) => number): number {
    if (encoding === DW_EH_PE_omit) return 0;
    const here = this.address + this.pos;
    let v: number;
    switch (encoding & 0x0f) {
      case DW_EH_PE_absptr:
      case DW_EH_PE_udata8:
      case DW_EH_PE_sdata8:
        v = this.u64();
        break;
      case DW_EH_PE_uleb128:
        v = this.uleb();
        break;
      case DW_EH_PE_udata2:
        v = this.u16();
        break;
      case DW_EH_PE_udata4:
        v = this.u32();
        break;
      case DW_EH_PE_sleb128:
        v = this.sleb();
        break;
      case DW_EH_PE_sdata2:
        v = this.i16();
        break;
      case DW_EH_PE_sdata4:
        v = this.i32();
        break;
      default:
        throw new CorruptDataError(`${this.what}: unknown pointer encoding 0x${encoding.toString(16)}`);
    }
    switch (encoding & 0x70) {
      case 0:
        break;
      case DW_EH_PE_pcrel:
        v += here;
        break;
      case DW_EH_PE_datarel:
        v += dataBase;
        break;
      case DW_EH_PE_funcrel:
        break; // only used for LSDA contents, which we do not read
      default:
        throw new CorruptDataError(`${this.what}: unsupported pointer application 0x${(encoding & 0x70).toString(16)}`);
    }
    if (encoding & DW_EH_PE_indirect) {
      if (!deref) throw new CorruptDataError(`${this.what}: indirect pointer without memory`);
      v = deref(v);
    }
    return v;
  }
}

/** Byte size of a DW_EH_PE value form, for skipping (0 for LEB128, which has no fixed size). */
export function encodedSize(encoding: number): number {
  switch (encoding & 0x0f) {
    case DW_EH_PE_udata2:
    case DW_EH_PE_sdata2:
      return 2;
    case DW_EH_PE_udata4:
    case DW_EH_PE_sdata4:
      return 4;
    case DW_EH_PE_absptr:
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8:
      return 8;
    default:
      return 0;
  }
}
