// Loading the runtime's own DAC (libmscordaccore.so, shipped next to libcoreclr.so) in-process
// and creating its ISOSDacInterface over our data target, as ClrMD's DacLibrary does on Linux:
// dlopen, DllMain(DLL_PROCESS_ATTACH) when the DAC carries its own PAL (it exports
// DAC_PAL_InitializeDLL or PAL_InitializeDLL), then CLRDataCreateInstance(IID_IXCLRDataProcess,
// dataTarget) and QueryInterface for ISOSDacInterface. The library is never unloaded: its PAL
// registers thread-exit destructors that would dangle (ClrMD does the same).
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { dirname, join } from "node:path";
import type { NativeModule } from "../../native/modules.js";
import type { NativeProcess } from "../../native/process.js";
import { ComPtr, guidBytes, hresultText, succeeded } from "./com.js";
import { createDataTarget, type DataTargetStats } from "./data-target.js";
import { loadKoffi, type Koffi } from "./koffi.js";
import { IID_ISOSDacInterface, SosDac } from "./sos-dac.js";
import { XclrDataProcess } from "./xclrdata.js";

export const DAC_FILE_NAME = "libmscordaccore.so";
const IID_IXCLRDataProcess = guidBytes("5c552ab6-fc09-4cb3-8e36-22fa03c798b7");
const DLL_PROCESS_ATTACH = 1;
const RTLD_NOW = 2;
const RTLD_NOLOAD = 4;

export interface LoadedDac {
  koffi: Koffi;
  sos: SosDac;
  /** The IXCLRDataProcess the DAC was created as (stack walks, frames' arguments and locals). */
  xclr: XclrDataProcess;
  path: string;
  /** The build both the DAC and the dump's runtime carry ("10.0.1226.42308 @Commit: ..."), when found. */
  version?: string;
  /** Milliseconds from the build check (reading the DAC file) to a usable ISOSDacInterface. */
  initMs: number;
}

/** Where the dump's runtime keeps its DAC: beside the libcoreclr.so (or single-file host) named in NT_FILE. */
export function defaultDacPath(process: NativeProcess): string | undefined {
  const rt = process.runtime;
  return rt ? join(dirname(rt.path), DAC_FILE_NAME) : undefined;
}

// Every runtime build stamps "@(#)Version <file version> @Commit: <sha>" into libcoreclr.so and its
// DAC alike. A DAC of another build misreads the runtime's structures (wrong answers, or a crash
// inside the DAC), so the stamps must match before the DAC is loaded.
const VERSION_MARK = Buffer.from("@(#)Version ");
const VERSION_MAX = 256;
const SCAN_CHUNK = 256 * 1024;

function versionAt(bytes: Buffer, at: number): string {
  const start = at + VERSION_MARK.length;
  let end = start;
  while (end < bytes.length && end - start < VERSION_MAX && bytes[end] !== 0) end++;
  return bytes.toString("latin1", start, end);
}

/** The DAC file's version stamp: in its data sections, near the end (the whole file is read only if not). */
function dacVersion(path: string): string | undefined {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, SCAN_CHUNK));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const at = tail.lastIndexOf(VERSION_MARK);
    if (at >= 0 && at + VERSION_MARK.length + VERSION_MAX <= tail.length) return versionAt(tail, at);
  } finally {
    closeSync(fd);
  }
  const bytes = readFileSync(path);
  const at = bytes.lastIndexOf(VERSION_MARK);
  return at >= 0 ? versionAt(bytes, at) : undefined;
}

/** The runtime's version stamp, from its image in dump memory (scanned from the end, where the data sections keep it). */
function runtimeVersion(process: NativeProcess, m: NativeModule): string | undefined {
  // Chunks overlap by the mark's length so that a mark across a boundary is seen whole.
  for (let end = m.end; end > m.start; end -= SCAN_CHUNK - VERSION_MARK.length) {
    const start = Math.max(m.start, end - SCAN_CHUNK);
    const chunk = process.memory.tryRead(start, end - start);
    if (!chunk) continue;
    const at = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).lastIndexOf(VERSION_MARK);
    if (at < 0) continue;
    const text = process.memory.tryRead(start + at, Math.min(VERSION_MARK.length + VERSION_MAX, m.end - start - at));
    return text ? versionAt(Buffer.from(text.buffer, text.byteOffset, text.byteLength), 0) : undefined;
  }
  return undefined;
}

/** dlopen's handle for an already loaded library (DllMain wants it), 0 if libc will not say. */
function libraryHandle(koffi: Koffi, path: string): bigint {
  for (const libc of ["libc.so.6", "libdl.so.2"]) {
    try {
      const dlopen = koffi.load(libc).func("void *dlopen(const char *path, int flags)");
      const h = dlopen(path, RTLD_NOW | RTLD_NOLOAD) as bigint | null;
      if (h) return h;
    } catch {
      // try the next library
    }
  }
  return 0n;
}

/** The DAC for the dump's runtime, or why not (one line). */
export function loadDac(process: NativeProcess, overridePath?: string): { dac?: LoadedDac; error?: string } {
  const { koffi, error } = loadKoffi();
  if (!koffi) return { error };
  const rt = process.runtime;
  const runtimeModule = process.modules.modules.find((m) => m.name === "libcoreclr.so");
  if (!rt || !runtimeModule) return { error: "no .NET runtime in this dump (libcoreclr.so is not loaded)" };
  const path = overridePath ?? defaultDacPath(process)!;
  if (!existsSync(path)) return { error: `no DAC at ${path}${overridePath ? "" : " (the runtime's directory; pass --dac PATH to use another copy)"}` };

  const started = performance.now();
  let version: string | undefined;
  try {
    version = dacVersion(path);
  } catch (e) {
    return { error: `cannot read the DAC ${path}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` };
  }
  const wanted = runtimeVersion(process, runtimeModule);
  if (version !== undefined && wanted !== undefined && version !== wanted) {
    return { error: `the DAC ${path} is build ${version}, but the dump's runtime is build ${wanted}: pass --dac with the libmscordaccore.so of the same build` };
  }

  let lib;
  try {
    lib = koffi.load(path);
  } catch (e) {
    return { error: `cannot load the DAC ${path}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` };
  }
  const has = (name: string) => {
    try {
      return lib.func(`void *${name}()`) !== undefined;
    } catch {
      return false;
    }
  };
  let create;
  try {
    create = lib.func("int CLRDataCreateInstance(void *iid, void *target, _Out_ void **iface)");
  } catch {
    return { error: `${path} is not a DAC (it exports no CLRDataCreateInstance)` };
  }
  if (has("DAC_PAL_InitializeDLL") || has("PAL_InitializeDLL")) {
    const dllMain = lib.func("int DllMain(void *instance, uint32_t reason, void *reserved)");
    if (!dllMain(libraryHandle(koffi, path), DLL_PROCESS_ATTACH, null)) return { error: `the DAC ${path} failed to initialize (DllMain)` };
  }

  const stats: DataTargetStats = { reads: 0, failedReads: 0 };
  const target = createDataTarget(koffi, process, runtimeModule.base, stats);
  const out: (bigint | null)[] = [null];
  const hr = create(IID_IXCLRDataProcess, target.pointer, out) as number;
  if (!succeeded(hr) || !out[0]) {
    const hint = stats.failedReads > 0 ? ` (${stats.failedReads} of its ${stats.reads} reads asked for memory the dump does not hold)` : "";
    return { error: `the DAC ${path} refused this dump: CLRDataCreateInstance failed with HRESULT ${hresultText(hr)}${hint}` };
  }
  const process_ = new ComPtr(koffi, out[0]);
  const { hr: qiHr, itf } = process_.queryInterface(IID_ISOSDacInterface);
  if (!itf) return { error: `the DAC ${path} has no ISOSDacInterface (HRESULT ${hresultText(qiHr)})` };
  // Keep the data target reachable for as long as the DAC may call it (the process lifetime).
  keepAlive.push(target);
  return { dac: { koffi, sos: new SosDac(koffi, itf), xclr: new XclrDataProcess(koffi, process_), path, version: wanted ?? version, initMs: performance.now() - started } };
}

const keepAlive: unknown[] = [];
