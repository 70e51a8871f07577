// Minimal COM over koffi, for the DAC: GUIDs, calling methods of native interfaces by vtable
// slot, and building COM objects whose methods are JavaScript functions (the data target the
// DAC calls back into). On Linux the DAC's COM methods use the platform C calling convention;
// IUnknown is slots 0-2 (QueryInterface, AddRef, Release) of every vtable.
//
// The DAC calls our methods synchronously from native code: an exception thrown there would
// cross the FFI boundary. Every JS method is wrapped so that it returns E_FAIL instead.
import { hexPadded } from "../../hex.js";
import type { Koffi } from "./koffi.js";

export type HRESULT = number;
export const S_OK = 0;
export const E_NOINTERFACE = 0x80004002 | 0;
export const E_NOTIMPL = 0x80004001 | 0;
export const E_FAIL = 0x80004005 | 0;
export const E_INVALIDARG = 0x80070057 | 0;

export const succeeded = (hr: HRESULT) => hr >= 0;
export const hresultText = (hr: HRESULT) => hexPadded(hr >>> 0, 8);

/** The text of a WCHAR (UTF-16LE) buffer the DAC filled: up to its first NUL, or all of it. */
export function wcharText(buf: Buffer): string {
  const s = buf.toString("utf16le");
  const nul = s.indexOf("\0");
  return nul >= 0 ? s.slice(0, nul) : s;
}

/** A GUID's 16 bytes in memory order (Data1-3 little-endian). */
export function guidBytes(text: string): Uint8Array {
  const h = text.replace(/[{}-]/g, "");
  if (!/^[0-9a-f]{32}$/i.test(h)) throw new Error(`bad GUID ${text}`);
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, parseInt(h.slice(0, 8), 16), true);
  dv.setUint16(4, parseInt(h.slice(8, 12), 16), true);
  dv.setUint16(6, parseInt(h.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) b[8 + i] = parseInt(h.slice(16 + i * 2, 18 + i * 2), 16);
  return b;
}

const IID_IUnknown = guidBytes("00000000-0000-0000-C000-000000000046");

/**
 * koffi's type for a C prototype like "int Name(void *self, ...)". koffi names types globally, so
 * each distinct prototype text gets its own unique name (two interfaces may share method names).
 */
const protoTypes = new Map<string, unknown>();
export function protoType(koffi: Koffi, proto: string): unknown {
  let type = protoTypes.get(proto);
  if (!type) {
    type = koffi.proto(proto.replace(/^(.*?)(\w+)\s*\(/, (_m, ret: string, name: string) => `${ret}${name}_${protoTypes.size}(`));
    protoTypes.set(proto, type);
  }
  return type;
}

const sameGuid = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);

/** A method of a JS-implemented interface: its C prototype (without `self`) and its body. */
export interface JsMethod {
  /** e.g. "int GetPointerSize(void *self, uint32_t *size)" (koffi prototype syntax). */
  proto: string;
  body: (...args: any[]) => HRESULT;
}

export interface JsInterface {
  iid: Uint8Array;
  /** Methods after IUnknown's three, in vtable order. */
  methods: JsMethod[];
}

/**
 * One COM object implemented in JS with several interfaces: each interface gets its own
 * pointer (a cell holding its vtable) and QueryInterface hands out the one asked for. The
 * object lives as long as the process (the DAC may keep it): reference counts are not tracked.
 */
export class JsComObject {
  private readonly pointers: { iid: Uint8Array; ptr: bigint }[] = [];
  /** Registered callbacks, kept referenced so they stay alive. */
  private readonly callbacks: bigint[] = [];

  constructor(
    private readonly koffi: Koffi,
    interfaces: JsInterface[],
  ) {
    const k = koffi;
    const qi = this.register("int QueryInterface(void *self, void *riid, void **ppv)", (_self: bigint, riid: bigint | null, ppv: bigint | null) => {
      if (riid === null || ppv === null) return E_INVALIDARG;
      const want = new Uint8Array(k.view(riid, 16));
      const hit = sameGuid(want, IID_IUnknown) ? this.pointers[0] : this.pointers.find((p) => sameGuid(p.iid, want));
      k.encode(ppv, "uint64_t", hit ? hit.ptr : 0n);
      return hit ? S_OK : E_NOINTERFACE;
    });
    const addRef = this.register("uint32_t AddRef(void *self)", () => 1);
    const release = this.register("uint32_t Release(void *self)", () => 1);
    for (const itf of interfaces) {
      const slots = [qi, addRef, release, ...itf.methods.map((m) => this.register(m.proto, m.body))];
      const vtable = k.alloc("uint64_t", slots.length) as bigint;
      slots.forEach((fn, i) => k.encode(vtable, i * 8, "uint64_t", fn));
      const cell = k.alloc("uint64_t", 1) as bigint;
      k.encode(cell, "uint64_t", vtable);
      this.pointers.push({ iid: itf.iid, ptr: cell });
    }
  }

  /** The pointer for the first interface (the one handed to the DAC). */
  get pointer(): bigint {
    return this.pointers[0]!.ptr;
  }

  private register(proto: string, body: (...args: any[]) => number): bigint {
    const type = protoType(this.koffi, proto);
    const fn = this.koffi.register((...args: unknown[]) => {
      try {
        return body(...args);
      } catch {
        return E_FAIL; // never let an exception unwind through the DAC's native frames
      }
    }, this.koffi.pointer(type as never));
    this.callbacks.push(fn);
    return fn;
  }
}

/** A native COM interface pointer: call methods by vtable slot. */
export class ComPtr {
  constructor(
    private readonly koffi: Koffi,
    readonly ptr: bigint,
  ) {}

  /** Calls vtable slot `slot` with prototype `proto` (its first parameter is `void *self`). */
  call(slot: number, proto: string, ...args: unknown[]): HRESULT {
    const type = protoType(this.koffi, proto);
    const vtable = this.koffi.decode(this.ptr, "uint64_t") as bigint | number;
    const fn = this.koffi.decode(BigInt(vtable), slot * 8, "uint64_t") as bigint | number;
    return this.koffi.call(BigInt(fn), type as never, this.ptr, ...args) as HRESULT;
  }

  /** IUnknown::QueryInterface: the interface `iid`, or undefined with the HRESULT. */
  queryInterface(iid: Uint8Array): { hr: HRESULT; itf?: ComPtr } {
    const out = new BigUint64Array(1);
    const hr = this.call(0, "int QueryInterface(void *self, void *riid, void *ppv)", iid, out);
    return succeeded(hr) && out[0]! !== 0n ? { hr, itf: new ComPtr(this.koffi, out[0]!) } : { hr };
  }
}
