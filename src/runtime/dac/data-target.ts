// The COM data target the DAC reads the dumped process through (clrdata.idl ICLRDataTarget,
// plus ICLRRuntimeLocator, which the Linux DAC asks for to find libcoreclr's base). Everything
// comes from our AddressSpace and the core's thread notes; the DAC writes nothing.
import { X86_64_USER_REGS } from "../../dump/notes.js";
import { PeMachine } from "../../metadata/pe.js";
import type { NativeProcess } from "../../native/process.js";
import { E_FAIL, E_INVALIDARG, E_NOTIMPL, guidBytes, JsComObject, S_OK, type HRESULT } from "./com.js";
import type { Koffi } from "./koffi.js";

export const IID_ICLRDataTarget = guidBytes("3E11CCEE-D08B-43e5-AF01-32717A64DA03");
export const IID_ICLRRuntimeLocator = guidBytes("b760bf44-9377-4597-8be7-58083bdc5146");

const PAGE = 4096;

// Windows AMD64 CONTEXT (winnt.h), the layout the DAC expects from GetThreadContext on any host.
const CONTEXT_AMD64 = 0x100000;
const CONTEXT_CONTROL = CONTEXT_AMD64 | 0x1;
const CONTEXT_INTEGER = CONTEXT_AMD64 | 0x2;
const CONTEXT_SEGMENTS = CONTEXT_AMD64 | 0x4;
const CONTEXT_OFFSETS = { ContextFlags: 0x30, SegCs: 0x38, SegDs: 0x3a, SegEs: 0x3c, SegFs: 0x3e, SegGs: 0x40, SegSs: 0x42, EFlags: 0x44 } as const;
/** CONTEXT.Rax .. CONTEXT.Rip, 8 bytes apart from 0x78. */
export const CONTEXT_GPRS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"] as const;
export const CONTEXT_GPR_BASE = 0x78;
const CONTEXT_MIN_SIZE = CONTEXT_GPR_BASE + CONTEXT_GPRS.length * 8;
/** Size of the AMD64 CONTEXT record. */
export const CONTEXT_SIZE = 0x4d0;

/** A CLRDATA_ADDRESS as koffi hands it over (number, or bigint past 2^53) -> a safe address, or undefined. */
function address(v: number | bigint): number | undefined {
  const n = typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN) : v;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Counters of the DAC's reads (to explain a DAC that refuses a dump). */
export interface DataTargetStats {
  reads: number;
  failedReads: number;
}

export function createDataTarget(koffi: Koffi, process: NativeProcess, runtimeBase: number, stats: DataTargetStats): JsComObject {
  const memory = process.memory;

  /** Bytes at `addr`: all of them, or the readable prefix (page by page). */
  function readPrefix(addr: number, length: number): Uint8Array | undefined {
    const all = memory.tryRead(addr, length);
    if (all) return all;
    const parts: Uint8Array[] = [];
    let at = addr;
    while (at < addr + length) {
      const n = Math.min(PAGE - (at % PAGE), addr + length - at);
      const part = memory.tryRead(at, n);
      if (!part) break;
      parts.push(part);
      at += n;
    }
    if (parts.length === 0) return undefined;
    const out = new Uint8Array(at - addr);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  const dataTarget = {
    iid: IID_ICLRDataTarget,
    methods: [
      {
        proto: "int GetMachineType(void *self, uint32_t *machine)",
        body: (_s: bigint, out: bigint | null): HRESULT => {
          if (out === null) return E_INVALIDARG;
          koffi.encode(out, "uint32_t", PeMachine.amd64);
          return S_OK;
        },
      },
      {
        proto: "int GetPointerSize(void *self, uint32_t *size)",
        body: (_s: bigint, out: bigint | null): HRESULT => {
          if (out === null) return E_INVALIDARG;
          koffi.encode(out, "uint32_t", 8);
          return S_OK;
        },
      },
      {
        proto: "int GetImageBase(void *self, const char16_t *imagePath, uint64_t *base)",
        body: (_s: bigint, path: string | null, out: bigint | null): HRESULT => {
          if (path === null || out === null) return E_INVALIDARG;
          // Like ClrMD: match the file name without extension, case-insensitively.
          const stem = (p: string) => p.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "").toLowerCase();
          const want = stem(path);
          const m = process.modules.modules.find((x) => stem(x.path) === want || stem(x.name) === want);
          if (!m) return E_FAIL;
          koffi.encode(out, "uint64_t", BigInt(m.base));
          return S_OK;
        },
      },
      {
        proto: "int ReadVirtual(void *self, uint64_t address, void *buffer, uint32_t size, uint32_t *done)",
        body: (_s: bigint, where: number | bigint, buffer: bigint | null, size: number, done: bigint | null): HRESULT => {
          stats.reads++;
          if (done !== null) koffi.encode(done, "uint32_t", 0);
          const addr = address(where);
          if (buffer === null || addr === undefined) return E_INVALIDARG;
          const bytes = size === 0 ? new Uint8Array(0) : readPrefix(addr, size);
          if (!bytes) {
            stats.failedReads++;
            return E_FAIL;
          }
          new Uint8Array(koffi.view(buffer, bytes.length)).set(bytes);
          if (done !== null) koffi.encode(done, "uint32_t", bytes.length);
          return S_OK;
        },
      },
      { proto: "int WriteVirtual(void *self, uint64_t address, void *buffer, uint32_t size, uint32_t *done)", body: () => E_NOTIMPL },
      { proto: "int GetTLSValue(void *self, uint32_t thread, uint32_t index, uint64_t *value)", body: () => E_NOTIMPL },
      { proto: "int SetTLSValue(void *self, uint32_t thread, uint32_t index, uint64_t value)", body: () => E_NOTIMPL },
      // A dump has no "current" thread the DAC could mean; ClrMD answers the same.
      { proto: "int GetCurrentThreadID(void *self, uint32_t *thread)", body: () => E_FAIL },
      {
        proto: "int GetThreadContext(void *self, uint32_t thread, uint32_t flags, uint32_t size, void *context)",
        body: (_s: bigint, tid: number, _flags: number, size: number, context: bigint | null): HRESULT => {
          if (context === null || size < CONTEXT_MIN_SIZE) return E_INVALIDARG;
          const t = process.threads.find((x) => x.tid === tid);
          if (!t) return E_FAIL;
          const regs = t.core.status.regs;
          const reg = (name: (typeof X86_64_USER_REGS)[number]) => regs[X86_64_USER_REGS.indexOf(name)] ?? 0n;
          const buf = new Uint8Array(koffi.view(context, size));
          buf.fill(0);
          const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
          dv.setUint32(CONTEXT_OFFSETS.ContextFlags, CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS, true);
          for (const seg of ["cs", "ds", "es", "fs", "gs", "ss"] as const) {
            const key = `Seg${seg[0]!.toUpperCase()}${seg[1]}` as keyof typeof CONTEXT_OFFSETS;
            dv.setUint16(CONTEXT_OFFSETS[key], Number(reg(seg) & 0xffffn), true);
          }
          dv.setUint32(CONTEXT_OFFSETS.EFlags, Number(reg("eflags") & 0xffffffffn), true);
          CONTEXT_GPRS.forEach((name, i) => dv.setBigUint64(CONTEXT_GPR_BASE + i * 8, reg(name), true));
          return S_OK;
        },
      },
      { proto: "int SetThreadContext(void *self, uint32_t thread, uint32_t size, void *context)", body: () => E_NOTIMPL },
      { proto: "int Request(void *self, uint32_t code, uint32_t inSize, void *inBuffer, uint32_t outSize, void *outBuffer)", body: () => E_NOTIMPL },
    ],
  };
  const runtimeLocator = {
    iid: IID_ICLRRuntimeLocator,
    methods: [
      {
        proto: "int GetRuntimeBase(void *self, uint64_t *base)",
        body: (_s: bigint, out: bigint | null): HRESULT => {
          if (out === null) return E_INVALIDARG;
          koffi.encode(out, "uint64_t", BigInt(runtimeBase));
          return S_OK;
        },
      },
    ],
  };
  return new JsComObject(koffi, [dataTarget, runtimeLocator]);
}
