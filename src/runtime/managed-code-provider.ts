// Connects the managed view to native backtraces: managed code's unwind data and names, so that
// `bt` walks JIT'd and ReadyToRun frames exactly and shows Assembly.dll!Type.Method+0xNN.
// The contracts backend answers where the runtime's descriptor lets it; where it cannot map code
// to methods (.NET 8 has no descriptor, .NET 9 no ExecutionManager) the runtime's DAC names the
// code (GetCodeHeaderData) and the unwinder walks such frames by frame pointer.
import type { ManagedCodeProvider } from "../native/process.js";
import { ClrscopeError } from "../errors.js";
import type { ClrRuntime } from "./clr-runtime.js";
import { MissingRuntimeDataError } from "./contracts/descriptor.js";
import type { DacRuntime } from "./dac/dac-runtime.js";
import type { ManagedNames } from "./managed-names.js";
import { fileNameOf } from "../native/modules.js";
import { warn } from "../warnings.js";
import { hex } from "../hex.js";

/**
 * The contracts backend's code map (`rt`, when the dump has a descriptor), falling back to the
 * DAC (`dac`, opened on first need) when the descriptor lacks what code lookup reads.
 */
export function managedCodeProvider(
  rt: ClrRuntime | undefined,
  names: ManagedNames | undefined,
  dac: () => DacRuntime | undefined,
  /** Without `rt`: why the data contracts cannot answer. */
  whyNoContracts?: string,
): ManagedCodeProvider {
  let contractsCanMapCode = rt !== undefined;
  let whyNotContracts = whyNoContracts;
  const contractsBlock = (address: number) => {
    if (!contractsCanMapCode) return undefined;
    try {
      return rt!.codeBlock(address);
    } catch (e) {
      if (e instanceof MissingRuntimeDataError) {
        contractsCanMapCode = false;
        whyNotContracts = e.message;
      } else if (e instanceof ClrscopeError) warnLookupFailed(address, e);
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  };
  // Without the contracts' code map, only the DAC names managed code: without it too, say so.
  const dacOrWarn = () => {
    const d = dac();
    if (!d) warn(`managed code cannot be mapped to methods (${whyNotContracts}) and the DAC is not available: managed frames are not named and may be missing`);
    return d;
  };
  // A damaged or missing runtime structure makes an address unknown, never a failed backtrace.
  return {
    unwindInfo: (address) => {
      if (!contractsCanMapCode) return undefined;
      try {
        return rt!.unwindInfo(address);
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
        if (!(e instanceof MissingRuntimeDataError)) warnLookupFailed(address, e);
        return undefined;
      }
    },
    describe: (address) =>
      namedOrWarned(address, () => {
        if (contractsCanMapCode) {
          const block = contractsBlock(address);
          if (block) {
            const md = rt!.methodDesc(block.methodDesc);
            return { module: names!.moduleFileName(rt!.methodTable(md.methodTable).module), symbol: names!.methodName(block.methodDesc), offset: address - block.start };
          }
          if (contractsCanMapCode) return undefined;
        }
        const d = dacOrWarn();
        return d && describeWithDac(d, address);
      }),
    // JIT'd code's size is in its code header (contracts); a ReadyToRun method's only in its GC
    // info, whose code length the DAC decodes (GetCodeHeaderData's MethodSize).
    codeSize: (start) =>
      namedOrWarned(start, () => {
        const block = contractsBlock(start);
        if (block?.size !== undefined) return block.size;
        const d = block ? dac() : dacOrWarn();
        if (block && !d) warn(`the size of the ReadyToRun method at ${hex(start)} is in its GC info, which only the DAC decodes, and the DAC is not available`);
        const header = d?.sos.codeHeaderData(start);
        return header && header.MethodStart === start && header.MethodSize > 0 ? header.MethodSize : undefined;
      }),
  };
}

/** A code lookup the dump could not complete: the frame may be unnamed, and those above it guessed. */
function warnLookupFailed(address: number, e: ClrscopeError): void {
  warn(`the runtime's code map could not be read for ${hex(address)} (${e.message}): managed frames may be missing or misnamed`);
}

/** The name of the code at `address`; when damaged data stops it, a warning and no name. */
function namedOrWarned<T>(address: number, name: () => T | undefined): T | undefined {
  try {
    return name();
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    warn(`the managed code at ${hex(address)} cannot be named (${e.message})`);
    return undefined;
  }
}

/** Module file name, method name (without its parameter list, as the contracts path names it) and offset, from the DAC. */
function describeWithDac(dac: DacRuntime, address: number): { module: string; symbol: string; offset: number } | undefined {
  const header = dac.sos.codeHeaderData(address);
  if (header.MethodDescPtr === 0) return undefined;
  const path = dac.modulePath(dac.methodDesc(header.MethodDescPtr).module);
  const name = dac.sos.methodDescName(header.MethodDescPtr);
  const paren = name.indexOf("(");
  return { module: fileNameOf(path), symbol: paren > 0 ? name.slice(0, paren) : name, offset: address - header.MethodStart };
}
