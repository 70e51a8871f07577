// Finding the .NET runtime in a dumped process: libcoreclr.so (or a single-file host) exports
// DotNetRuntimeContractDescriptor; its descriptor drives the contracts backend.
import { ClrscopeError, ExitCode } from "../errors.js";
import { describeUnreadableRuntime, type NativeProcess } from "../native/process.js";
import type { ClrRuntime } from "./clr-runtime.js";
import { ContractsRuntime } from "./contracts/contracts-runtime.js";
import { readRuntimeDescriptor } from "./contracts/descriptor.js";
import { RuntimeTarget } from "./contracts/target.js";
import { runtimeProductVersion } from "./product-version.js";

export const DESCRIPTOR_SYMBOL = "DotNetRuntimeContractDescriptor";

export class NoRuntimeError extends ClrscopeError {
  constructor(message: string) {
    super("no-runtime", message, ExitCode.commandFailed);
  }
}

/** The contracts backend of the dump's runtime; NoRuntimeError when it has no runtime or no descriptor. */
export function openContractsRuntime(process: NativeProcess): ClrRuntime {
  const rt = process.runtime;
  const candidates = process.modules.modules.filter((m) => m.name === "libcoreclr.so" || m === process.mainModule);
  for (const m of candidates) {
    const [value] = process.modules.symbols(m).table.find(DESCRIPTOR_SYMBOL);
    if (value === undefined) continue;
    const descriptor = readRuntimeDescriptor(process.memory, value + m.bias);
    return new ContractsRuntime(new RuntimeTarget(process.memory, descriptor), { libcoreclr: m.path, version: runtimeProductVersion(process) });
  }
  const unreadable = process.unreadableRuntime;
  if (unreadable) throw new NoRuntimeError(describeUnreadableRuntime(unreadable));
  if (!rt) throw new NoRuntimeError("no .NET runtime in this dump (libcoreclr.so is not loaded)");
  throw new NoRuntimeError(`${rt.path} exports no ${DESCRIPTOR_SYMBOL} (runtimes before .NET 9 have no data contracts; the SOS commands use the runtime's DAC instead)`);
}
