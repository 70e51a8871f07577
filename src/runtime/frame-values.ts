// Parameters of a managed frame from the runtime's own debug info (the DebugInfo contract's
// variable table, .NET 11) when there is no DAC: each IL argument's location at the frame's IP,
// read from the frame's unwound registers and the stack, sized by the method's signature. The
// same FrameValue shape the DAC's walk gives, so clrstack renders both alike.
import type { AddressSpace } from "../dump/address-space.js";
import type { MetadataReader } from "../metadata/metadata.js";
import { decodeLocalSig, decodeMethodSig, ET, type SigType } from "../metadata/signatures.js";
import { tokenRid } from "../metadata/tables.js";
import { DWARF_REG, type RegisterSet } from "../native/registers.js";
import type { ClrRuntime } from "./clr-runtime.js";
import type { NativeVar } from "./contracts/debug-info.js";
import type { FrameValue } from "./model.js";

/** ICorDebugInfo::RegNum (AMD64) to DWARF register numbers; 16 is REGNUM_AMBIENT_SP, the frame's SP. */
const COR_TO_DWARF = [
  DWARF_REG.rax, DWARF_REG.rcx, DWARF_REG.rdx, DWARF_REG.rbx, DWARF_REG.rsp, DWARF_REG.rbp, DWARF_REG.rsi, DWARF_REG.rdi,
  DWARF_REG.r8, DWARF_REG.r9, DWARF_REG.r10, DWARF_REG.r11, DWARF_REG.r12, DWARF_REG.r13, DWARF_REG.r14, DWARF_REG.r15, DWARF_REG.rsp,
];
const POINTER_SIZE = 8;

/** Bytes a value of this signature type takes in a frame; undefined for value types (their size is the runtime's). */
function sizeOf(t: SigType, genericArgSize: (t: SigType) => number | undefined): number | undefined {
  switch (t.kind) {
    case "prim":
      switch (t.et) {
        case ET.BOOLEAN: case ET.I1: case ET.U1: return 1;
        case ET.CHAR: case ET.I2: case ET.U2: return 2;
        case ET.I4: case ET.U4: case ET.R4: return 4;
        case ET.I8: case ET.U8: case ET.R8: case ET.I: case ET.U: case ET.STRING: case ET.OBJECT: return 8;
        default: return undefined;
      }
    case "named": return t.valueType ? undefined : POINTER_SIZE;
    case "generic": return t.type.kind === "named" && !t.type.valueType ? POINTER_SIZE : undefined;
    case "szarray": case "array": case "ptr": case "byref": case "fnptr": return POINTER_SIZE;
    case "modified": case "pinned": return sizeOf(t.elem, genericArgSize);
    case "var": case "mvar": return genericArgSize(t);
    default: return undefined;
  }
}

const PRIMITIVE_SIZES = new Map<number, number>([
  [ET.BOOLEAN, 1], [ET.I1, 1], [ET.U1, 1], [ET.CHAR, 2], [ET.I2, 2], [ET.U2, 2], [ET.I4, 4], [ET.U4, 4], [ET.R4, 4],
  [ET.I8, 8], [ET.U8, 8], [ET.R8, 8], [ET.I, 8], [ET.U, 8],
]);

function classInstantiation(rt: ClrRuntime, methodTable: number): number[] {
  const shape = rt.typeNames().typeHandleShape(methodTable);
  return shape.kind === "class" ? shape.instantiation : [];
}

/** Bytes of a value of the type behind a TypeHandle in a frame; undefined for other value types. */
function typeHandleSize(rt: ClrRuntime, typeHandle: number): number | undefined {
  const shape = rt.typeNames().typeHandleShape(typeHandle);
  if (shape.kind !== "class") return shape.kind === "valuetype" || shape.kind === "unknown" || shape.kind === "var" || shape.kind === "mvar" ? undefined : POINTER_SIZE;
  if (shape.primitiveElementType !== undefined) return PRIMITIVE_SIZES.get(shape.primitiveElementType);
  return rt.typeSystemDetails().signatureElementType(shape.methodTable) === ET.CLASS ? POINTER_SIZE : undefined;
}

/** Fat IL method header: flags and size (2 bytes), max stack (2), code size (4), then the locals' StandAloneSig token. */
const FAT_HEADER_LOCALS_TOKEN = 8;
const IL_FORMAT_MASK = 3;
const IL_FAT_FORMAT = 3;

/** The types of a method's locals, from the StandAloneSig its IL header names (none for a tiny header). */
function localTypes(rt: ClrRuntime, meta: MetadataReader, methodDesc: number, memory: AddressSpace): SigType[] {
  const md = rt.methodDesc(methodDesc);
  const module = rt.methodTable(md.methodTable).module;
  const ilAddress = rt.loader().ilAddress(module, meta.methodRva(tokenRid(md.token)));
  if (ilAddress === 0) return [];
  const header = memory.tryRead(ilAddress, FAT_HEADER_LOCALS_TOKEN + 4);
  if (!header || (header[0]! & IL_FORMAT_MASK) !== IL_FAT_FORMAT) return [];
  const token = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(FAT_HEADER_LOCALS_TOKEN, true);
  if (tokenRid(token) === 0) return [];
  return decodeLocalSig(meta.standAloneSignature(tokenRid(token)));
}

/** The register's value in this frame's context, undefined when the unwind did not recover it. */
function registerValue(registers: RegisterSet, sp: number, corRegister: number): number | undefined {
  const dwarf = COR_TO_DWARF[corRegister];
  if (dwarf === undefined) return undefined;
  if (dwarf === DWARF_REG.rsp) return sp;
  const v = registers[dwarf];
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

function littleEndian(value: number, size: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
  return b.subarray(0, size);
}

/** The value of one variable: its single location, and its bytes where known. */
function valueOf(name: string, v: NativeVar | undefined, size: number | undefined, registers: RegisterSet, sp: number, memory: AddressSpace): FrameValue {
  if (!v) return { name, flags: 0 };
  const loc = v.location;
  switch (loc.kind) {
    case "register": {
      const r = registerValue(registers, sp, loc.register);
      return { name, location: { kind: "register" }, bytes: r !== undefined && size !== undefined ? littleEndian(r, size) : undefined, flags: 0 };
    }
    case "fp-register":
      return { name, location: { kind: "register" }, flags: 0 };
    case "stack": case "stack-byref": {
      const base = registerValue(registers, sp, loc.baseRegister);
      if (base === undefined) return { name, flags: 0 };
      let address = base + loc.offset;
      if (loc.kind === "stack-byref") {
        const p = memory.tryRead(address, POINTER_SIZE);
        if (!p) return { name, flags: 0 };
        address = Number(new DataView(p.buffer, p.byteOffset, 8).getBigUint64(0, true));
      }
      const bytes = size === undefined ? undefined : memory.tryRead(address, size);
      return { name, location: { kind: "memory", address }, bytes, flags: 0 };
    }
    case "register-byref": {
      const address = registerValue(registers, sp, loc.register);
      if (address === undefined) return { name, flags: 0 };
      const bytes = size === undefined ? undefined : memory.tryRead(address, size);
      return { name, location: { kind: "memory", address }, bytes, flags: 0 };
    }
    default:
      return { name, flags: 0 };
  }
}

/**
 * The arguments of the managed frame of `methodDesc` at `ip` (`this` first), with the frame's
 * unwound `registers` and stack pointer `sp`; undefined where the runtime publishes no variable
 * table (the DAC answers there) or the method's metadata is unknown.
 */
export function frameArguments(rt: ClrRuntime, meta: MetadataReader | undefined, methodDesc: number, ip: number, registers: RegisterSet, sp: number, memory: AddressSpace): FrameValue[] | undefined {
  return frameValues(rt, meta, methodDesc, ip, registers, sp, memory)?.args;
}

/**
 * The arguments and the locals (in local signature order, unnamed: the PDB names them) of the
 * managed frame of `methodDesc` at `ip`; undefined as for frameArguments.
 */
export function frameValues(
  rt: ClrRuntime, meta: MetadataReader | undefined, methodDesc: number, ip: number, registers: RegisterSet, sp: number, memory: AddressSpace,
): { args: FrameValue[]; locals: FrameValue[] } | undefined {
  const vars = rt.nativeVarsAt?.(ip);
  if (!vars || !meta) return undefined;
  const token = rt.methodDesc(methodDesc).token;
  const rid = tokenRid(token);
  const sig = decodeMethodSig(meta.methodSignature(rid));
  const names = new Map<number, string>();
  for (const p of meta.params(rid)) names.set(meta.paramSequence(p), meta.paramName(p));
  const byVar = new Map<number, NativeVar>();
  for (const v of vars) if (!byVar.has(v.varNumber)) byVar.set(v.varNumber, v);
  const out: FrameValue[] = [];
  const first = sig.hasThis && !sig.explicitThis ? 1 : 0;
  if (first === 1) out.push(valueOf("this", byVar.get(0), POINTER_SIZE, registers, sp, memory));
  // A generic parameter takes the size of its argument in this instantiation (the frame's method
  // may be the shared canonical code: __Canon is a reference).
  const genericArgSize = (t: SigType): number | undefined => {
    if (t.kind !== "var" && t.kind !== "mvar") return undefined;
    const typeNames = rt.typeNames();
    const args = t.kind === "var" ? classInstantiation(rt, rt.methodDesc(methodDesc).methodTable) : typeNames.methodInstantiation(methodDesc);
    const arg = args[t.index];
    return arg === undefined ? undefined : typeHandleSize(rt, arg);
  };
  sig.params.forEach((t, i) => out.push(valueOf(names.get(i + 1) ?? "", byVar.get(first + i), sizeOf(t, genericArgSize), registers, sp, memory)));
  // Locals follow the arguments in the variable numbering, in their signature's order.
  const firstLocal = first + sig.params.length;
  const locals = localTypes(rt, meta, methodDesc, memory).map((t, i) => valueOf("", byVar.get(firstLocal + i), sizeOf(t, genericArgSize), registers, sp, memory));
  return { args: out, locals };
}
