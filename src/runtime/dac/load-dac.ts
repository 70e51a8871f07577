// Loading the runtime's own DAC (libmscordaccore.so) in the DAC host process (dac-host.ts) and
// creating its ISOSDacInterface over our data target, as ClrMD's DacLibrary does on Linux:
// dlopen, DllMain(DLL_PROCESS_ATTACH) when the DAC carries its own PAL (it exports
// DAC_PAL_InitializeDLL or PAL_InitializeDLL), then CLRDataCreateInstance(IID_IXCLRDataProcess,
// dataTarget) and QueryInterface for ISOSDacInterface. The library is never unloaded: its PAL
// registers thread-exit destructors that would dangle (ClrMD does the same).
import type { NativeProcess } from "../../native/process.js";
import { ComPtr, guidBytes, hresultText, succeeded } from "./com.js";
import { createDataTarget, type DataTargetStats } from "./data-target.js";
import { loadKoffi, type Koffi } from "./koffi.js";
import { IID_ISOSDacInterface, SosDac } from "./sos-dac.js";
import { XclrDataProcess } from "./xclrdata.js";

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
  /** Milliseconds from dlopen to a usable ISOSDacInterface. */
  initMs: number;
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

/**
 * Loads the DAC at `path` for the dump's runtime, or says why not (one line). `path` must come
 * from findTrustedDac (dac-provenance.ts): loading it runs its code. Runs in the DAC host process.
 */
export function loadDac(process: NativeProcess, path: string, version: string | undefined): { dac?: LoadedDac; error?: string } {
  const { koffi, error } = loadKoffi();
  if (!koffi) return { error };
  const runtimeModule = process.modules.modules.find((m) => m.name === "libcoreclr.so");
  if (!runtimeModule) return { error: "no .NET runtime in this dump (libcoreclr.so is not loaded)" };
  const started = performance.now();
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
  return { dac: { koffi, sos: new SosDac(koffi, itf), xclr: new XclrDataProcess(koffi, process_), path, version, initMs: performance.now() - started } };
}

const keepAlive: unknown[] = [];
