// The runtime's data-contract descriptor: the exported DotNetRuntimeContractDescriptor struct
// (magic "DNCCDAC\0", flags, JSON size and pointer, pointer_data), its compact JSON (types with
// field offsets, globals, contract versions) and its sub-descriptors. Every runtime structure
// layout clrscope uses comes from here (dotnet/runtime docs/design/datacontracts/
// contract-descriptor.md and data_descriptor.md).
import type { Memory } from "../../dump/address-space.js";
import { u64OrNaN } from "../../dump/binary-reader.js";
import { ClrscopeError, CorruptDataError, ExitCode } from "../../errors.js";
import { MAX_DESCRIPTOR_JSON_BYTES, MAX_DESCRIPTOR_POINTERS, MAX_SUB_DESCRIPTOR_DEPTH } from "../../limits.js";
import { POINTER_SIZE } from "../../dump/address-space.js";

const MAGIC = "DNCCDAC\0";
const HEADER_SIZE = 40; // 64-bit layout: magic, flags, size, json*, count, pad, pointer_data*
/** Descriptor type names of numeric globals ("uint32", "nuint", "uintptr_t", "pointer"). */
const NUMERIC_TYPE = /^(u?int(8|16|32|64|ptr_t)?|nu?int|pointer|bool)$/;

export interface FieldLayout {
  offset: number;
  type?: string;
}

export interface TypeLayout {
  /** Total size ("!" in the JSON), when the runtime declares it. */
  size?: number;
  fields: Map<string, FieldLayout>;
}

export interface GlobalValue {
  /** Numeric value; for indirect globals the pointer_data slot's value (an address). */
  value?: bigint;
  string?: string;
  type?: string;
  indirect: boolean;
}

/** A runtime structure field the descriptor of this runtime does not publish. */
export class MissingRuntimeDataError extends ClrscopeError {
  constructor(what: string) {
    super("runtime-data-missing", what, ExitCode.commandFailed);
  }
}

export class RuntimeDescriptor {
  constructor(
    readonly address: number,
    readonly types: Map<string, TypeLayout>,
    readonly globals: Map<string, GlobalValue>,
    readonly contracts: Map<string, number | string>,
    /** Addresses of every descriptor read (the main one first, then sub-descriptors). */
    readonly descriptorAddresses: number[],
  ) {}

  hasField(type: string, field: string): boolean {
    return this.types.get(type)?.fields.has(field) ?? false;
  }

  /** Offset of `type.field`; a clear error naming it when this runtime does not publish it. */
  offset(type: string, field: string): number {
    const f = this.types.get(type)?.fields.get(field);
    if (f === undefined) throw new MissingRuntimeDataError(`this runtime's data descriptor has no ${type}.${field}, which this needs`);
    return f.offset;
  }

  size(type: string): number {
    const s = this.types.get(type)?.size;
    if (s === undefined) throw new MissingRuntimeDataError(`this runtime's data descriptor gives no size for ${type}`);
    return s;
  }

  hasGlobal(name: string): boolean {
    return this.globals.has(name);
  }

  /** A numeric global that fits a JS number (addresses, sizes, small constants). */
  global(name: string): number {
    const g = this.numericGlobal(name);
    if (g.value >= 2n ** 53n) throw new CorruptDataError(`global ${name} (0x${g.value.toString(16)}) does not fit an address`);
    return Number(g.value);
  }

  /** A numeric global as a full 64-bit value (masks). */
  globalBig(name: string): bigint {
    return this.numericGlobal(name).value;
  }

  private numericGlobal(name: string): GlobalValue & { value: bigint } {
    const g = this.globals.get(name);
    // A global of a numeric type whose value is text is a damaged descriptor, not a runtime without it.
    if (g?.value === undefined && g?.type !== undefined && NUMERIC_TYPE.test(g.type)) {
      throw new CorruptDataError(`the descriptor's global ${name} (${g.type}) has the value ${JSON.stringify(g.string)}, which is not a number (damaged descriptor)`);
    }
    if (g?.value === undefined) throw new MissingRuntimeDataError(`this runtime's data descriptor has no numeric global ${name}`);
    return g as GlobalValue & { value: bigint };
  }

  globalString(name: string): string | undefined {
    return this.globals.get(name)?.string;
  }

  contractVersion(name: string): number | string | undefined {
    return this.contracts.get(name);
  }

  /**
   * Whether `name` is versioned the .NET 11 way: runtimes up to .NET 10 publish integer versions
   * (1, 2, 3), .NET 11 strings ("c1" = CoreCLR implementation 1, dotnet/runtime#127020), restarting
   * the count: "c1" of .NET 11 is not integer 1 of .NET 10, so each contract maps both itself.
   */
  hasStringVersion(name: string): boolean {
    return typeof this.contracts.get(name) === "string" && !/^[0-9]+$/.test(String(this.contracts.get(name)));
  }
}

/** Read and merge the descriptor at `address` and its sub-descriptors. */
export function readRuntimeDescriptor(mem: Memory, address: number): RuntimeDescriptor {
  const types = new Map<string, TypeLayout>();
  const globals = new Map<string, GlobalValue>();
  const contracts = new Map<string, number | string>();
  const addresses: number[] = [];
  readInto(mem, address, 0, { types, globals, contracts, addresses });
  return new RuntimeDescriptor(address, types, globals, contracts, addresses);
}

interface Accumulator {
  types: Map<string, TypeLayout>;
  globals: Map<string, GlobalValue>;
  contracts: Map<string, number | string>;
  addresses: number[];
}

function readInto(mem: Memory, address: number, depth: number, acc: Accumulator): void {
  if (depth > MAX_SUB_DESCRIPTOR_DEPTH || acc.addresses.includes(address)) {
    throw new CorruptDataError(`contract descriptor at 0x${address.toString(16)}: sub-descriptors nest too deep or form a cycle`);
  }
  acc.addresses.push(address);
  // The descriptor struct sits in libcoreclr's writable .data, which heap dumps leave out; the
  // runtime never writes it after load, so the file's bytes, relocated, are exact.
  const header = mem.tryReadAsLoaded?.(address, HEADER_SIZE) ?? mem.read(address, HEADER_SIZE);
  if (Buffer.from(header.subarray(0, 8)).toString("latin1") !== MAGIC) {
    throw new CorruptDataError(`no contract descriptor at 0x${address.toString(16)} (magic is not "DNCCDAC")`);
  }
  const v = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
  const flags = v.getUint32(8, true);
  if ((flags & 2) !== 0) throw new ClrscopeError("unsupported-format", "the runtime's contract descriptor is for a 32-bit process; clrscope supports 64-bit", ExitCode.unsupported);
  const jsonSize = v.getUint32(12, true);
  const jsonAddress = u64OrNaN(v, 16);
  const pointerCount = v.getUint32(24, true);
  const pointerData = u64OrNaN(v, 32);
  if (jsonSize > MAX_DESCRIPTOR_JSON_BYTES || pointerCount > MAX_DESCRIPTOR_POINTERS || Number.isNaN(jsonAddress) || Number.isNaN(pointerData)) {
    throw new CorruptDataError(`contract descriptor at 0x${address.toString(16)} has implausible sizes (JSON ${jsonSize} bytes, ${pointerCount} pointers)`);
  }
  const slots: bigint[] = [];
  for (let i = 0; i < pointerCount; i++) slots.push(mem.readU64(pointerData + i * POINTER_SIZE));
  let json: CompactDescriptor;
  try {
    json = JSON.parse(Buffer.from(mem.read(jsonAddress, jsonSize)).toString("utf8")) as CompactDescriptor;
  } catch (e) {
    if (e instanceof ClrscopeError) throw e;
    throw new CorruptDataError(`contract descriptor JSON at 0x${jsonAddress.toString(16)} does not parse: ${(e as Error).message}`);
  }
  mergeTypes(json.types ?? {}, acc.types);
  mergeGlobals(json.globals ?? {}, slots, acc.globals);
  for (const [name, version] of Object.entries(json.contracts ?? {})) {
    if (acc.contracts.has(name)) throw new CorruptDataError(`contract ${name} is declared twice across descriptors`);
    acc.contracts.set(name, version);
  }
  // A sub-descriptor global points at a variable that holds the sub-descriptor's address (or 0).
  const subs = new Map<string, GlobalValue>();
  mergeGlobals(json.subDescriptors ?? {}, slots, subs);
  for (const sub of subs.values()) {
    if (sub.value === undefined || sub.value === 0n || sub.value >= 2n ** 53n) continue;
    const target = mem.tryReadPointer(Number(sub.value));
    if (target > 0) readInto(mem, target, depth + 1, acc);
  }
}

interface CompactDescriptor {
  version?: number;
  types?: Record<string, Record<string, number | [number, string]>>;
  globals?: Record<string, unknown>;
  contracts?: Record<string, number | string>;
  subDescriptors?: Record<string, unknown>;
}

function mergeTypes(src: NonNullable<CompactDescriptor["types"]>, into: Map<string, TypeLayout>): void {
  for (const [name, fields] of Object.entries(src)) {
    if (into.has(name)) throw new CorruptDataError(`type ${name} is declared twice across descriptors`);
    const layout: TypeLayout = { fields: new Map() };
    for (const [field, spec] of Object.entries(fields)) {
      if (field === "!") layout.size = Number(spec);
      else if (typeof spec === "number") layout.fields.set(field, { offset: spec });
      else if (Array.isArray(spec) && typeof spec[0] === "number") layout.fields.set(field, { offset: spec[0], type: String(spec[1]) });
      else throw new CorruptDataError(`descriptor type ${name}.${field} has an unreadable layout ${JSON.stringify(spec)}`);
    }
    into.set(name, layout);
  }
}

/**
 * Globals come in four shapes: `value`, `[index]` (indirect through pointer_data),
 * `[value, "type"]` and `[[index], "type"]`; values are numbers or strings (hex, decimal, text).
 */
function mergeGlobals(src: Record<string, unknown>, slots: bigint[], into: Map<string, GlobalValue>): void {
  for (const [name, spec] of Object.entries(src)) {
    if (into.has(name)) throw new CorruptDataError(`global ${name} is declared twice across descriptors`);
    let raw: unknown = spec;
    let type: string | undefined;
    if (Array.isArray(spec) && spec.length === 2) {
      raw = spec[0];
      type = String(spec[1]);
    }
    if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === "number") {
      const slot = slots[raw[0]];
      if (slot === undefined) throw new CorruptDataError(`global ${name} refers to pointer_data[${raw[0]}] of ${slots.length}`);
      into.set(name, { value: slot, type, indirect: true });
    } else {
      into.set(name, { ...parseValue(raw), type, indirect: false });
    }
  }
}

function parseValue(raw: unknown): { value?: bigint; string?: string } {
  if (typeof raw === "number" && Number.isInteger(raw)) return { value: BigInt.asUintN(64, BigInt(raw)) };
  if (typeof raw === "string") {
    if (/^-?0x[0-9a-f]+$/i.test(raw) || /^-?[0-9]+$/.test(raw)) {
      const negative = raw.startsWith("-");
      const magnitude = BigInt(negative ? raw.slice(1) : raw);
      return { value: BigInt.asUintN(64, negative ? -magnitude : magnitude), string: raw };
    }
    return { string: raw };
  }
  throw new CorruptDataError(`descriptor global value ${JSON.stringify(raw)} is neither a number nor a string`);
}
