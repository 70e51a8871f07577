// A synthetic .NET runtime for unit tests of the data contracts: target memory (little-endian,
// 64-bit, missing everywhere it was not written), structures laid out by a chosen descriptor, and
// the descriptor itself written into that memory as the runtime exports it (the
// DotNetRuntimeContractDescriptor header "DNCCDAC\0", its compact JSON and pointer_data;
// dotnet/runtime docs/design/datacontracts/contract-descriptor.md, data_descriptor.md), so that the
// contract code reads it through readRuntimeDescriptor exactly as it reads a dump's.
//
// Layouts are deliberately unlike any runtime's: by default fields are placed in reverse order of
// declaration, at odd, unaligned offsets, and sizes are padded by odd amounts, so code that types
// a .NET 10 offset instead of asking the descriptor reads the wrong bytes and fails its test.
import type { Memory } from "../../src/dump/address-space.js";
import { MemoryNotInDump } from "../../src/errors.js";
import { readRuntimeDescriptor, type RuntimeDescriptor } from "../../src/runtime/contracts/descriptor.js";
import { RuntimeTarget } from "../../src/runtime/contracts/target.js";
import { withWarnings } from "../../src/warnings.js";

/** Field kinds: how many bytes a write puts there, and the type name the descriptor JSON gives. */
const KINDS = { u8: [1, "uint8"], u16: [2, "uint16"], u32: [4, "uint32"], i32: [4, "int32"], u64: [8, "uint64"], ptr: [8, "pointer"], inline: [0, ""] } as const;
export type FieldKind = keyof typeof KINDS;

/**
 * A field declaration: "Name" (a pointer), "Name:u32", "Name:inline:SIZE" (an embedded array or
 * structure of SIZE bytes whose address the contract takes) or "Name:Type" (an embedded structure
 * of a type declared before, its size). Explicit offsets { Name: [offset, kind] } are for tests
 * that need a particular layout.
 */
export type FieldSpec = string;

export interface SyntheticField {
  offset: number;
  kind: FieldKind;
}

export interface SyntheticType {
  size?: number;
  fields: Map<string, SyntheticField>;
}

/** Little-endian memory over [base, base + capacity); only written (allocated) bytes are in the "dump". */
export class SyntheticMemory implements Memory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Byte present in the dump (1) or not (0). */
  private readonly present: Uint8Array;
  private next: number;

  constructor(
    readonly base = 0x5a5a_0000_0000,
    readonly capacity = 1 << 20,
  ) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.present = new Uint8Array(capacity);
    this.next = base + 0x40;
  }

  /** `size` zeroed bytes, in the dump, aligned to `align`; returns their address. */
  alloc(size: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (at + size > this.base + this.capacity) throw new Error("synthetic memory is full");
    this.present.fill(1, at - this.base, at - this.base + size);
    this.next = at + size + 0x30; // a gap: reads past a structure's end are missing, not a neighbour's bytes
    return at;
  }

  /** Puts [address, address + length) in the dump without allocating it (tests that place structures themselves). */
  map(address: number, length: number): void {
    this.present.fill(1, this.index(address, length), address - this.base + length);
  }

  /** Removes [address, address + length) from the dump (pages a heap dump leaves out). */
  drop(address: number, length: number): void {
    this.present.fill(0, address - this.base, address - this.base + length);
  }

  private index(address: number, length: number): number {
    const i = address - this.base;
    if (i < 0 || i + length > this.capacity) throw new Error(`synthetic write at 0x${address.toString(16)} outside the memory`);
    return i;
  }

  u8(address: number, v: number): void {
    this.view.setUint8(this.index(address, 1), v);
  }
  u16(address: number, v: number): void {
    this.view.setUint16(this.index(address, 2), v, true);
  }
  u32(address: number, v: number): void {
    this.view.setUint32(this.index(address, 4), v >>> 0, true);
  }
  u64(address: number, v: number | bigint): void {
    this.view.setBigUint64(this.index(address, 8), BigInt.asUintN(64, BigInt(v)), true);
  }
  write(address: number, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.index(address, bytes.length));
  }
  /** A NUL-terminated UTF-16 string in new memory; returns its address. */
  utf16z(text: string): number {
    const at = this.alloc(text.length * 2 + 2);
    for (let i = 0; i < text.length; i++) this.u16(at + i * 2, text.charCodeAt(i));
    return at;
  }
  /** A NUL-terminated UTF-8 string in new memory; returns its address. */
  utf8z(text: string): number {
    const b = Buffer.from(text, "utf8");
    const at = this.alloc(b.length + 1);
    this.write(at, b);
    return at;
  }

  // ---- Memory ----
  tryRead(address: number, length: number): Uint8Array | undefined {
    const i = address - this.base;
    if (!Number.isSafeInteger(address) || length < 0 || i < 0 || i + length > this.capacity) return undefined;
    for (let j = i; j < i + length; j++) if (this.present[j] === 0) return undefined;
    return this.bytes.slice(i, i + length);
  }
  read(address: number, length: number): Uint8Array {
    const b = this.tryRead(address, length);
    if (!b) throw new MemoryNotInDump(address, length);
    return b;
  }
  readU64(address: number): bigint {
    const b = this.read(address, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }
  tryReadPointer(address: number): number {
    const b = this.tryRead(address, 8);
    if (!b) return NaN;
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN;
  }
  origin(address: number): "dump" | "missing" {
    return this.tryRead(address, 1) ? "dump" : "missing";
  }
}

type GlobalSpec = { kind: "direct"; value: number | bigint | string; type?: string } | { kind: "indirect"; slot: number; type?: string };

/**
 * A synthetic runtime: memory, the types of its descriptor, its globals and contracts. Declare
 * types, allocate and fill structures by field name, then `target()` writes the descriptor into
 * memory and reads it back as clrscope reads a dump's.
 */
export class SyntheticRuntime {
  readonly memory: SyntheticMemory;
  readonly types = new Map<string, SyntheticType>();
  private readonly globals = new Map<string, GlobalSpec>();
  private readonly pointerData: bigint[] = [];
  readonly contracts = new Map<string, number | string>();
  /** Extra JSON members of the main descriptor (tests of damaged descriptors). */
  extraJson: Record<string, unknown> = {};
  private readonly subDescriptors = new Map<string, number>();
  private descriptorAddress?: number;

  constructor(memory = new SyntheticMemory()) {
    this.memory = memory;
  }

  /**
   * Declares a type. Fields given as names are placed in reverse order at odd offsets (the first
   * at `start`, default 0x13, then 6 bytes after each field's end: odd, unaligned offsets); the size is the end plus 0x1d.
   * Explicit `[offset, kind]` pairs are kept as given. Returns the type's layout.
   */
  type(name: string, fields: FieldSpec[] | Record<string, [number, FieldKind]>, opts: { size?: number | null; start?: number } = {}): SyntheticType {
    const layout: SyntheticType = { fields: new Map() };
    let end = 0;
    if (Array.isArray(fields)) {
      let offset = opts.start ?? 0x13;
      for (const spec of [...fields].reverse()) {
        const [field, kindOrType = "ptr", inlineSize] = spec.split(":") as [string, string?, string?];
        // "Name:SomeType": an embedded structure of a type declared before, as large as it is.
        const embedded = kindOrType in KINDS ? undefined : this.types.get(kindOrType)?.size;
        if (!(kindOrType in KINDS) && embedded === undefined) throw new Error(`unknown field kind or sized type ${kindOrType} in ${name}.${spec}`);
        const kind: FieldKind = embedded !== undefined ? "inline" : (kindOrType as FieldKind);
        const width = embedded ?? (kind === "inline" ? Number(inlineSize) : KINDS[kind][0]);
        layout.fields.set(field, { offset, kind });
        end = offset + width;
        offset = end + 6;
      }
    } else {
      for (const [field, [offset, kind]] of Object.entries(fields)) {
        layout.fields.set(field, { offset, kind });
        end = Math.max(end, offset + (kind === "inline" ? 8 : KINDS[kind][0]));
      }
    }
    if (opts.size !== null) layout.size = opts.size ?? end + 0x1d;
    this.types.set(name, layout);
    return layout;
  }

  offset(type: string, field: string): number {
    const f = this.types.get(type)?.fields.get(field);
    if (!f) throw new Error(`synthetic type ${type} has no field ${field}`);
    return f.offset;
  }

  size(type: string): number {
    const s = this.types.get(type)?.size;
    if (s === undefined) throw new Error(`synthetic type ${type} has no size`);
    return s;
  }

  /** A new, zeroed structure of `type` (its declared size plus `extra` bytes). */
  alloc(type: string, extra = 0, align = 16): number {
    return this.memory.alloc(this.size(type) + extra, align);
  }

  /** Writes `type.field` of the structure at `base`, with the field's declared width. */
  set(base: number, type: string, field: string, value: number | bigint): this {
    const f = this.types.get(type)?.fields.get(field);
    if (!f) throw new Error(`synthetic type ${type} has no field ${field}`);
    const at = base + f.offset;
    switch (f.kind) {
      case "u8":
        this.memory.u8(at, Number(value));
        break;
      case "u16":
        this.memory.u16(at, Number(value));
        break;
      case "u32":
      case "i32":
        this.memory.u32(at, Number(value));
        break;
      case "u64":
      case "ptr":
        this.memory.u64(at, value);
        break;
      case "inline":
        throw new Error(`${type}.${field} is inline: write inside it with at()`);
    }
    return this;
  }

  /** Writes several fields of one structure. */
  fill(base: number, type: string, values: Record<string, number | bigint>): number {
    for (const [field, v] of Object.entries(values)) this.set(base, type, field, v);
    return base;
  }

  /** Address of `type.field` in the structure at `base`. */
  at(base: number, type: string, field: string): number {
    return base + this.offset(type, field);
  }

  /** A global with a literal value in the JSON (numbers, strings such as "0x10", or text). */
  global(name: string, value: number | bigint | string, type?: string): this {
    this.globals.set(name, { kind: "direct", value, type });
    return this;
  }

  /** A global whose value is a pointer_data slot (how the runtime exports addresses). */
  indirectGlobal(name: string, value: number | bigint, type?: string): this {
    this.pointerData.push(BigInt(value));
    this.globals.set(name, { kind: "indirect", slot: this.pointerData.length - 1, type });
    return this;
  }

  /**
   * A runtime global variable (a pointer the contract reads through `globalVariable`): new memory
   * holding `value`, exported as the variable's address. Returns that address.
   */
  variable(name: string, value: number): number {
    const cell = this.memory.alloc(8, 8);
    this.memory.u64(cell, value);
    this.indirectGlobal(name, cell);
    return cell;
  }

  /** A contract and its version: a number up to .NET 10, a string ("c1") from .NET 11. */
  contract(name: string, version: number | string = 1): this {
    this.contracts.set(name, version);
    return this;
  }

  /** A sub-descriptor (the GC's): the main descriptor exports a variable holding its address. */
  subDescriptor(name: string, sub: SyntheticRuntime): this {
    const address = sub.writeDescriptor();
    const cell = this.memory.alloc(8, 8);
    this.memory.u64(cell, address);
    this.pointerData.push(BigInt(cell));
    this.subDescriptors.set(name, this.pointerData.length - 1);
    return this;
  }

  /** The compact JSON the runtime embeds (types with "!" sizes and [offset, type] fields, globals, contracts). */
  json(): Record<string, unknown> {
    const types: Record<string, Record<string, number | [number, string]>> = {};
    for (const [name, t] of this.types) {
      const fields: Record<string, number | [number, string]> = {};
      if (t.size !== undefined) fields["!"] = t.size;
      for (const [f, { offset, kind }] of t.fields) fields[f] = kind === "inline" ? offset : [offset, KINDS[kind][1]];
      types[name] = fields;
    }
    const globals: Record<string, unknown> = {};
    for (const [name, g] of this.globals) {
      const raw = g.kind === "indirect" ? [g.slot] : typeof g.value === "bigint" ? "0x" + g.value.toString(16) : g.value;
      globals[name] = g.type ? [raw, g.type] : raw;
    }
    const out: Record<string, unknown> = { version: 0, baseline: "empty", types, globals, contracts: Object.fromEntries(this.contracts) };
    if (this.subDescriptors.size) out.subDescriptors = Object.fromEntries([...this.subDescriptors].map(([n, slot]) => [n, [slot]]));
    return { ...out, ...this.extraJson };
  }

  /**
   * Writes the descriptor (header, JSON, pointer_data) into memory once; returns its address.
   * `header` overrides header words (damaged-descriptor tests).
   */
  writeDescriptor(header: { magic?: string; flags?: number; jsonSize?: number; pointerCount?: number; json?: string } = {}): number {
    if (this.descriptorAddress !== undefined && Object.keys(header).length === 0) return this.descriptorAddress;
    const m = this.memory;
    const json = Buffer.from(header.json ?? JSON.stringify(this.json()), "utf8");
    const jsonAt = m.alloc(json.length, 8);
    m.write(jsonAt, json);
    const data = m.alloc(Math.max(8, this.pointerData.length * 8), 8);
    this.pointerData.forEach((v, i) => m.u64(data + i * 8, v));
    const at = m.alloc(40, 8);
    m.write(at, Buffer.from((header.magic ?? "DNCCDAC\0").padEnd(8, "\0").slice(0, 8), "latin1"));
    m.u32(at + 8, header.flags ?? 1); // bit 0: set; bit 1: 32-bit pointers
    m.u32(at + 12, header.jsonSize ?? json.length);
    m.u64(at + 16, jsonAt);
    m.u32(at + 24, header.pointerCount ?? this.pointerData.length);
    m.u64(at + 32, data);
    if (Object.keys(header).length === 0) this.descriptorAddress = at;
    return at;
  }

  /** The descriptor as clrscope reads it from the synthetic memory. */
  descriptor(): RuntimeDescriptor {
    return readRuntimeDescriptor(this.memory, this.writeDescriptor());
  }

  /** What the contracts read through: the synthetic memory and the descriptor read from it. */
  target(): RuntimeTarget {
    return new RuntimeTarget(this.memory, this.descriptor());
  }
}

/** Runs `fn`, returning its result (or the error it threw) and the warnings it recorded. */
export function warningsOf<T>(fn: () => T): { value?: T; error?: unknown; warnings: string[] } {
  const warnings: string[] = [];
  try {
    return { value: withWarnings(warnings, fn), warnings };
  } catch (error) {
    return { error, warnings };
  }
}
