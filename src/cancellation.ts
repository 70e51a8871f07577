// Cancelling the command in flight (Ctrl-C in the REPL). Commands run synchronously, so a signal
// handler cannot run while one does; instead the REPL sets a flag in shared memory that long
// loops (stack walks, disassembly, heap walks, waits on the DAC host) check between steps.
import { ClrscopeError } from "./errors.js";

/** Thrown by throwIfCancelled(): the command stops, the session goes on. */
export class CancelledError extends ClrscopeError {
  constructor() {
    super("cancelled", "interrupted");
  }
}

/** Loop iterations (instructions, objects) between checks where one iteration is cheap. */
export const CANCELLATION_CHECK_INTERVAL = 1024;

let flag: Int32Array | undefined;

/** Installs the shared flag (one Int32 slot; non-zero means cancel) that the REPL sets on Ctrl-C. */
export function useCancellationFlag(shared: Int32Array | undefined): void {
  flag = shared;
}

export function cancellationRequested(): boolean {
  return flag !== undefined && Atomics.load(flag, 0) !== 0;
}

/** Call between steps of anything that can run long. */
export function throwIfCancelled(): void {
  if (flag !== undefined && Atomics.load(flag, 0) !== 0) throw new CancelledError();
}

/** Clears the flag before the next command starts. */
export function resetCancellation(): void {
  if (flag !== undefined) Atomics.store(flag, 0, 0);
}
