// The library's way in: `openDump(path)` opens a core dump whose backtraces name managed frames
// with no further call, and `openClrRuntime(dump)` hands out its managed runtime: the composite
// over the runtime's data contracts and its DAC (runtimes without a descriptor, .NET 8 and older,
// answer through the DAC). One managed runtime per dump; closing the dump ends the DAC's host.
import { openCoreDump, type NativeProcess, type OpenOptions } from "../native/process.js";
import { ManagedRuntime, type ManagedRuntimeOptions } from "./managed-runtime.js";

export interface OpenDumpOptions extends OpenOptions {
  /** The runtime's DAC (libmscordaccore.so) to use, if not found by the dump's runtime build-id. */
  dacPath?: string;
  /** auto (default): the data contracts, then the DAC; contracts: never the DAC; dac: the DAC first. */
  backend?: ManagedRuntimeOptions["backend"];
}

const runtimes = new WeakMap<NativeProcess, ManagedRuntime>();

/** The managed runtime of an open dump (made on first call, then the same object). */
export function openClrRuntime(dump: NativeProcess, options: ManagedRuntimeOptions = {}): ManagedRuntime {
  let runtime = runtimes.get(dump);
  if (!runtime) {
    const made = new ManagedRuntime(dump, options);
    dump.whenClosed(() => made.close());
    runtimes.set(dump, made);
    runtime = made;
  }
  return runtime;
}

/**
 * Opens a core dump (headers and notes; the rest is read on demand). Its backtraces unwind and
 * name managed frames too: the runtime is opened when a backtrace first meets code outside every
 * module.
 */
export function openDump(path: string, options: OpenDumpOptions = {}): NativeProcess {
  const { dacPath, backend, ...open } = options;
  const dump = openCoreDump(path, open);
  openClrRuntime(dump, { dacPath, backend }).attachLazily();
  return dump;
}
