// DWARF expression evaluation for CFI (DW_CFA_def_cfa_expression, DW_CFA_expression,
// DW_CFA_val_expression): the stack-machine subset used by glibc (PLT entries, signal
// trampolines), libstdc++ and libcoreclr. 64-bit arithmetic in bigint: expressions are rare,
// never on a hot path, and must wrap exactly.
import { CorruptDataError } from "../errors.js";
import { DwarfCursor } from "./dwarf-reader.js";
import { MAX_DWARF_EXPRESSION_STEPS } from "../limits.js";

const MASK = (1n << 64n) - 1n;

export interface ExpressionContext {
  /** Register value by DWARF number, or undefined when unknown. */
  register(dwarfReg: number): bigint | undefined;
  /** Read `size` bytes (1..8) of target memory as an unsigned value, undefined when missing. */
  readMemory(address: bigint, size: number): bigint | undefined;
}

/** Evaluate; the result is the top of the stack, or undefined when a register or memory is unavailable. */
export function evaluateExpression(expr: Uint8Array, ctx: ExpressionContext, initial: bigint[] = []): bigint | undefined {
  const c = new DwarfCursor(expr, 0, "DWARF expression");
  const stack: bigint[] = [...initial];
  const pop = (): bigint => {
    const v = stack.pop();
    if (v === undefined) throw new CorruptDataError("DWARF expression: stack underflow");
    return v;
  };
  const push = (v: bigint) => stack.push(v & MASK);
  const signed = (v: bigint) => BigInt.asIntN(64, v);
  for (let steps = 0; !c.atEnd; steps++) {
    if (steps > MAX_DWARF_EXPRESSION_STEPS) throw new CorruptDataError("DWARF expression: too many steps (loop?)");
    const op = c.u8();
    if (op >= 0x30 && op <= 0x4f) {
      push(BigInt(op - 0x30)); // DW_OP_lit0..31
      continue;
    }
    if (op >= 0x50 && op <= 0x6f) {
      const r = ctx.register(op - 0x50); // DW_OP_reg0..31: a location, not a value; treat as its value
      if (r === undefined) return undefined;
      push(r);
      continue;
    }
    if (op >= 0x70 && op <= 0x8f) {
      const r = ctx.register(op - 0x70); // DW_OP_breg0..31
      const off = c.slebBig();
      if (r === undefined) return undefined;
      push(r + off);
      continue;
    }
    switch (op) {
      case 0x03: push(c.u64big()); break; // addr
      case 0x06: { // deref
        const v = ctx.readMemory(pop(), 8);
        if (v === undefined) return undefined;
        push(v);
        break;
      }
      case 0x94: { // deref_size
        const size = c.u8();
        if (size < 1 || size > 8) throw new CorruptDataError(`DWARF expression: deref_size ${size}`);
        const v = ctx.readMemory(pop(), size);
        if (v === undefined) return undefined;
        push(v);
        break;
      }
      case 0x08: push(BigInt(c.u8())); break;
      case 0x09: push(BigInt((c.u8() << 24) >> 24)); break;
      case 0x0a: push(BigInt(c.u16())); break;
      case 0x0b: push(BigInt(c.i16())); break;
      case 0x0c: push(BigInt(c.u32())); break;
      case 0x0d: push(BigInt(c.i32())); break;
      case 0x0e:
      case 0x0f: push(c.u64big()); break;
      case 0x10: push(c.ulebBig()); break;
      case 0x11: push(c.slebBig()); break;
      case 0x12: { const v = pop(); stack.push(v, v); break; } // dup
      case 0x13: pop(); break; // drop
      case 0x14: { // over
        if (stack.length < 2) throw new CorruptDataError("DWARF expression: stack underflow");
        stack.push(stack[stack.length - 2]!);
        break;
      }
      case 0x15: { // pick
        const i = c.u8();
        const v = stack[stack.length - 1 - i];
        if (v === undefined) throw new CorruptDataError("DWARF expression: pick out of range");
        stack.push(v);
        break;
      }
      case 0x16: { const a = pop(); const b = pop(); stack.push(a, b); break; } // swap
      case 0x17: { const a = pop(); const b = pop(); const d = pop(); stack.push(a, d, b); break; } // rot
      case 0x19: { const v = signed(pop()); push(v < 0n ? -v : v); break; } // abs
      case 0x1a: { const b = pop(); push(pop() & b); break; }
      case 0x1b: { const b = signed(pop()); const a = signed(pop()); if (b === 0n) return undefined; push(a / b); break; }
      case 0x1c: { const b = pop(); push(pop() - b); break; } // minus
      case 0x1d: { const b = pop(); const a = pop(); if (b === 0n) return undefined; push(a % b); break; }
      case 0x1e: { const b = pop(); push(pop() * b); break; }
      case 0x1f: push(-signed(pop())); break; // neg
      case 0x20: push(~pop()); break; // not
      case 0x21: { const b = pop(); push(pop() | b); break; }
      case 0x22: { const b = pop(); push(pop() + b); break; } // plus
      case 0x23: push(pop() + c.ulebBig()); break; // plus_uconst
      case 0x24: { const b = pop(); push(pop() << (b & 63n)); break; } // shl
      case 0x25: { const b = pop(); push(pop() >> (b & 63n)); break; } // shr
      case 0x26: { const b = pop(); push(signed(pop()) >> (b & 63n)); break; } // shra
      case 0x27: { const b = pop(); push(pop() ^ b); break; } // xor
      case 0x28: { const off = c.i16(); if (pop() !== 0n) jump(c, off); break; } // bra
      case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: {
        const b = signed(pop());
        const a = signed(pop());
        const r = op === 0x29 ? a === b : op === 0x2a ? a >= b : op === 0x2b ? a > b : op === 0x2c ? a <= b : op === 0x2d ? a < b : a !== b;
        push(r ? 1n : 0n);
        break;
      }
      case 0x2f: jump(c, c.i16()); break; // skip
      case 0x90: { const r = ctx.register(c.uleb()); if (r === undefined) return undefined; push(r); break; } // regx
      case 0x92: { // bregx
        const r = ctx.register(c.uleb());
        const off = c.slebBig();
        if (r === undefined) return undefined;
        push(r + off);
        break;
      }
      case 0x96: break; // nop
      default:
        throw new CorruptDataError(`DWARF expression: unsupported operation 0x${op.toString(16)}`);
    }
  }
  return stack.pop();
}

function jump(c: DwarfCursor, offset: number): void {
  const target = c.pos + offset;
  if (target < 0 || target > c.bytes.length) throw new CorruptDataError("DWARF expression: branch outside the expression");
  c.pos = target;
}
