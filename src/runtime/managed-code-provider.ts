// Connects the managed view to native backtraces: managed code's unwind data and names, so that
// `bt` walks JIT'd and ReadyToRun frames exactly and shows Assembly.dll!Type.Method+0xNN.
import type { ManagedCodeProvider } from "../native/process.js";
import { ClrscopeError } from "../errors.js";
import type { ClrRuntime } from "./clr-runtime.js";
import type { ManagedNames } from "./managed-names.js";

export function managedCodeProvider(rt: ClrRuntime, names: ManagedNames): ManagedCodeProvider {
  // A damaged or missing runtime structure makes an address unknown, never a failed backtrace.
  const guard = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  };
  return {
    unwindInfo: (address) => guard(() => rt.unwindInfo(address)),
    describe: (address) =>
      guard(() => {
        const block = rt.codeBlock(address);
        if (!block) return undefined;
        const md = rt.methodDesc(block.methodDesc);
        return { module: names.moduleFileName(rt.methodTable(md.methodTable).module), symbol: names.methodName(block.methodDesc), offset: address - block.start };
      }),
  };
}
