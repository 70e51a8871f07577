// DWARF call-frame information from .eh_frame, located through .eh_frame_hdr's sorted search
// table: CIE/FDE parsing and execution of the CFA program up to a pc, giving the rule row that
// says how to recover the caller's registers. Reads go through dump memory (the AddressSpace
// serves the pages from the library file when the dump lacks them).
import type { Memory } from "../dump/address-space.js";
import { CorruptDataError } from "../errors.js";
import { DW_EH_PE_omit, DwarfCursor, encodedSize } from "./dwarf-reader.js";
import { lastAtOrBelow } from "../dump/sorted.js";
import { MAX_CFI_RECORD_BYTES } from "../limits.js";

export type RegisterRule =
  | { kind: "undefined" }
  | { kind: "same" }
  | { kind: "offset"; offset: number } // saved at CFA+offset
  | { kind: "val_offset"; offset: number } // value is CFA+offset
  | { kind: "register"; reg: number }
  | { kind: "expression"; expr: Uint8Array } // saved at the address the expression computes
  | { kind: "val_expression"; expr: Uint8Array };

export type CfaRule = { kind: "register"; reg: number; offset: number } | { kind: "expression"; expr: Uint8Array };

export interface CfiRow {
  cfa: CfaRule;
  /** Rules by register number (a Map while the program runs; see `compiledRules`). */
  rules: Map<number, RegisterRule>;
  /** The return-address column (16 on x86-64). */
  returnAddressRegister: number;
  /** CIE augmentation 'S': the frame is a signal trampoline; its caller's pc is exact. */
  signalFrame: boolean;
}

export interface Cie {
  codeAlign: number;
  dataAlign: number;
  returnAddressRegister: number;
  fdeEncoding: number;
  hasAugmentationData: boolean;
  signalFrame: boolean;
  instructions: Uint8Array;
}

export interface Fde {
  cie: Cie;
  pcBegin: number;
  pcEnd: number;
  instructions: Uint8Array;
}

const MAX_RULE_STACK = 64;

export class EhFrameIndex {
  private readonly locs: Float64Array;
  private readonly fdes: Float64Array;
  private readonly cies = new Map<number, Cie>();

  private constructor(
    private readonly mem: Memory,
    locs: Float64Array,
    fdes: Float64Array,
  ) {
    this.locs = locs;
    this.fdes = fdes;
  }

  /** Index the .eh_frame_hdr at `hdrAddress`; undefined when it is absent or has no search table. */
  static fromHeader(mem: Memory, hdrAddress: number): EhFrameIndex | undefined {
    const head = mem.tryRead(hdrAddress, 4);
    if (!head || head[0] !== 1) return undefined;
    const [, ptrEnc, countEnc, tableEnc] = head as unknown as [number, number, number, number];
    const entrySize = encodedSize(tableEnc!);
    if (countEnc === DW_EH_PE_omit || tableEnc === DW_EH_PE_omit || entrySize === 0) return undefined;
    const fixed = mem.tryRead(hdrAddress + 4, 16);
    if (!fixed) return undefined;
    const c = new DwarfCursor(fixed, hdrAddress + 4, ".eh_frame_hdr");
    c.encoded(ptrEnc!, hdrAddress);
    const count = c.encoded(countEnc!, hdrAddress);
    const tableAddr = hdrAddress + 4 + c.pos;
    if (!(count >= 0) || count > 1 << 22) throw new CorruptDataError(`.eh_frame_hdr at 0x${hdrAddress.toString(16)} claims ${count} entries`);
    const bytes = mem.tryRead(tableAddr, count * entrySize * 2);
    if (!bytes) return undefined;
    const t = new DwarfCursor(bytes, tableAddr, ".eh_frame_hdr table");
    const locs = new Float64Array(count);
    const fdes = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      locs[i] = t.encoded(tableEnc!, hdrAddress);
      fdes[i] = t.encoded(tableEnc!, hdrAddress);
    }
    return new EhFrameIndex(mem, locs, fdes);
  }

  get size(): number {
    return this.locs.length;
  }

  /** The FDE covering `pc`, or undefined. */
  findFde(pc: number): Fde | undefined {
    const hi = lastAtOrBelow(this.locs, pc);
    if (hi < 0) return undefined;
    const fde = this.readFde(this.fdes[hi]!);
    return fde && pc >= fde.pcBegin && pc < fde.pcEnd ? fde : undefined;
  }

  private readRecord(address: number): { body: DwarfCursor; bodyAddress: number } | undefined {
    const lenBytes = this.mem.tryRead(address, 4);
    if (!lenBytes) return undefined;
    let length = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, true);
    let bodyAddress = address + 4;
    if (length === 0xffffffff) {
      const l64 = this.mem.tryReadPointer(address + 4);
      if (Number.isNaN(l64)) return undefined;
      length = l64;
      bodyAddress += 8;
    }
    if (length === 0 || length > MAX_CFI_RECORD_BYTES) return undefined;
    const body = this.mem.tryRead(bodyAddress, length);
    if (!body) return undefined;
    return { body: new DwarfCursor(body, bodyAddress, `.eh_frame record at 0x${address.toString(16)}`), bodyAddress };
  }

  private readFde(address: number): Fde | undefined {
    const rec = this.readRecord(address);
    if (!rec) return undefined;
    const c = rec.body;
    const ciePointer = c.u32();
    if (ciePointer === 0) return undefined; // a CIE, not an FDE
    const cie = this.readCie(rec.bodyAddress - ciePointer);
    if (!cie) return undefined;
    const deref = (a: number) => this.mem.tryReadPointer(a);
    const pcBegin = c.encoded(cie.fdeEncoding, 0, deref);
    const pcRange = c.encoded(cie.fdeEncoding & 0x0f);
    if (cie.hasAugmentationData) c.skip(c.uleb());
    return { cie, pcBegin, pcEnd: pcBegin + pcRange, instructions: c.bytes.subarray(c.pos) };
  }

  private readCie(address: number): Cie | undefined {
    const cached = this.cies.get(address);
    if (cached) return cached;
    const rec = this.readRecord(address);
    if (!rec) return undefined;
    const c = rec.body;
    if (c.u32() !== 0) return undefined;
    const version = c.u8();
    const augmentation = c.cstring();
    if (augmentation.includes("eh")) c.skip(8);
    const codeAlign = c.uleb();
    const dataAlign = c.sleb();
    const returnAddressRegister = version === 1 ? c.u8() : c.uleb();
    const cie: Cie = { codeAlign, dataAlign, returnAddressRegister, fdeEncoding: 0, hasAugmentationData: false, signalFrame: false, instructions: new Uint8Array(0) };
    if (augmentation.startsWith("z")) {
      cie.hasAugmentationData = true;
      const augLength = c.uleb();
      const augEnd = c.pos + augLength;
      for (const ch of augmentation.slice(1)) {
        if (ch === "R") cie.fdeEncoding = c.u8();
        else if (ch === "L") c.u8();
        else if (ch === "P") c.encoded(c.u8(), 0, (a) => this.mem.tryReadPointer(a));
        else if (ch === "S") cie.signalFrame = true;
        else if (ch === "B") continue;
        else break; // unknown: the length tells us where the data ends
      }
      c.pos = augEnd;
    }
    cie.instructions = c.bytes.subarray(c.pos);
    this.cies.set(address, cie);
    return cie;
  }
}

/** Run the CIE's initial instructions and the FDE's instructions up to `pc`. */
export function cfiRowFor(fde: Fde, pc: number): CfiRow {
  const cie = fde.cie;
  const row: CfiRow = { cfa: { kind: "register", reg: 7, offset: 8 }, rules: new Map(), returnAddressRegister: cie.returnAddressRegister, signalFrame: cie.signalFrame };
  runCfaProgram(cie.instructions, cie, row, Infinity, 0, undefined);
  const initial = new Map(row.rules);
  runCfaProgram(fde.instructions, cie, row, pc, fde.pcBegin, initial);
  return row;
}

function runCfaProgram(program: Uint8Array, cie: Cie, row: CfiRow, targetPc: number, startLoc: number, initial: Map<number, RegisterRule> | undefined): void {
  const c = new DwarfCursor(program, 0, "CFA program");
  const saved: { cfa: CfaRule; rules: Map<number, RegisterRule> }[] = [];
  let loc = startLoc;
  const restore = (reg: number) => {
    const r = initial?.get(reg);
    if (r) row.rules.set(reg, r);
    else row.rules.delete(reg);
  };
  const advance = (delta: number): boolean => {
    loc += delta * cie.codeAlign;
    return loc > targetPc;
  };
  while (!c.atEnd) {
    const op = c.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) {
      if (advance(low)) return;
      continue;
    }
    if (high === 0x80) {
      row.rules.set(low, { kind: "offset", offset: c.uleb() * cie.dataAlign });
      continue;
    }
    if (high === 0xc0) {
      restore(low);
      continue;
    }
    switch (op) {
      case 0x00: break; // nop
      case 0x01: // set_loc
        loc = c.encoded(cie.fdeEncoding);
        if (loc > targetPc) return;
        break;
      case 0x02: if (advance(c.u8())) return; break;
      case 0x03: if (advance(c.u16())) return; break;
      case 0x04: if (advance(c.u32())) return; break;
      case 0x05: { const r = c.uleb(); row.rules.set(r, { kind: "offset", offset: c.uleb() * cie.dataAlign }); break; }
      case 0x06: restore(c.uleb()); break;
      case 0x07: row.rules.set(c.uleb(), { kind: "undefined" }); break;
      case 0x08: row.rules.set(c.uleb(), { kind: "same" }); break;
      case 0x09: { const r = c.uleb(); row.rules.set(r, { kind: "register", reg: c.uleb() }); break; }
      case 0x0a:
        if (saved.length >= MAX_RULE_STACK) throw new CorruptDataError("CFA program: remember_state nested too deep");
        saved.push({ cfa: row.cfa, rules: new Map(row.rules) });
        break;
      case 0x0b: {
        const s = saved.pop();
        if (s) {
          row.cfa = s.cfa;
          row.rules = s.rules;
        }
        break;
      }
      case 0x0c: { const reg = c.uleb(); row.cfa = { kind: "register", reg, offset: c.uleb() }; break; }
      case 0x0d: row.cfa = { kind: "register", reg: c.uleb(), offset: row.cfa.kind === "register" ? row.cfa.offset : 0 }; break;
      case 0x0e: if (row.cfa.kind === "register") row.cfa = { ...row.cfa, offset: c.uleb() }; else c.uleb(); break;
      case 0x0f: row.cfa = { kind: "expression", expr: c.block(c.uleb()) }; break;
      case 0x10: { const r = c.uleb(); row.rules.set(r, { kind: "expression", expr: c.block(c.uleb()) }); break; }
      case 0x11: { const r = c.uleb(); row.rules.set(r, { kind: "offset", offset: c.sleb() * cie.dataAlign }); break; }
      case 0x12: { const reg = c.uleb(); row.cfa = { kind: "register", reg, offset: c.sleb() * cie.dataAlign }; break; }
      case 0x13: if (row.cfa.kind === "register") row.cfa = { ...row.cfa, offset: c.sleb() * cie.dataAlign }; else c.sleb(); break;
      case 0x14: { const r = c.uleb(); row.rules.set(r, { kind: "val_offset", offset: c.uleb() * cie.dataAlign }); break; }
      case 0x15: { const r = c.uleb(); row.rules.set(r, { kind: "val_offset", offset: c.sleb() * cie.dataAlign }); break; }
      case 0x16: { const r = c.uleb(); row.rules.set(r, { kind: "val_expression", expr: c.block(c.uleb()) }); break; }
      case 0x2e: c.uleb(); break; // GNU_args_size
      case 0x2f: { const r = c.uleb(); row.rules.set(r, { kind: "offset", offset: -c.uleb() * cie.dataAlign }); break; }
      default:
        throw new CorruptDataError(`CFA program: unknown instruction 0x${op.toString(16)}`);
    }
  }
}
