// `printexception`/`pe [<exception object>]` (SOS PrintException, strike.cpp): an exception's type,
// message, inner exception, stack trace and HResult, read through the System.Exception fields the
// runtime's data descriptor publishes, or on runtimes without one (.NET 8) through the DAC's
// GetObjectExceptionData. Without an address: the current thread's last thrown
// exception (Thread.LastThrownObject, a handle: a pointer to the object).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import type { ExceptionSource, ExceptionStackFrame } from "../../runtime/model.js";
import { defineCommand, hexAddress, parseArgs, parseNumber, type Session } from "../command.js";

export interface PrintexceptionResult {
  address: string;
  type: string;
  /** null: _message is null (SOS "<none>"). */
  message: string | null;
  innerException: { address: string; type: string } | null;
  /**
   * _stackTrace: null when the exception was never thrown; else the object, with its frames when
   * the runtime publishes the stack trace element layout (.NET 11), innermost first.
   */
  stackTrace: { address: string; type: string; decoded: boolean; frames?: ExceptionStackRow[] } | null;
  stackTraceString: string | null;
  remoteStackTraceString: string | null;
  /** _HResult as 8 hex digits, e.g. "80131509". */
  hResult: string;
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC (no descriptor: .NET 8). */
  backend: "contracts" | "dac";
}

/** One frame of an exception's stack trace as SOS prints it. */
export interface ExceptionStackRow {
  /** The frame's stack pointer: null where the runtime does not publish it (the .NET 11 descriptor's StackTraceElement has no SP). */
  sp: string | null;
  ip: string;
  methodDesc: string;
  /** "module.dll!Namespace.Type.Method(Args)+0xOFFSET", as SOS. */
  function: string;
}

/** The object the current thread's LastThrownObject handle points at. */
function lastThrown(session: Session, src: ExceptionSource): number {
  const native = session.process.thread(session.currentThread);
  const thread = native ? src.threads().find((t) => t.osId === native.tid) : undefined;
  if (!thread) throw new CommandError("The current thread is unmanaged", "no-managed-thread");
  const handle = thread.lastThrownObjectHandle;
  const object = handle === 0 ? 0 : session.process.memory.tryReadPointer(handle);
  if (!object || Number.isNaN(object)) throw new CommandError("There is no current managed exception on this thread", "no-exception");
  return object;
}

/** SOS's row of a stack trace frame: "module.dll!Namespace.Type.Method(Args)+0xOFFSET". */
function exceptionStackRow(f: ExceptionStackFrame): ExceptionStackRow {
  const offset = f.offset === null ? "" : `+0x${f.offset.toString(16)}`;
  return { sp: f.sp === null ? null : hexAddress(f.sp), ip: hexAddress(f.ip), methodDesc: hexAddress(f.methodDesc), function: `${f.moduleFileName}!${f.method}${offset}` };
}

function stackTraceOf(src: ExceptionSource, stackTrace: number): NonNullable<PrintexceptionResult["stackTrace"]> {
  const frames = src.stackFrames(stackTrace)?.map(exceptionStackRow);
  return { address: hexAddress(stackTrace), type: src.typeName(stackTrace), decoded: frames !== undefined, ...(frames ? { frames } : {}) };
}

export const printexception = defineCommand<PrintexceptionResult>({
  names: ["printexception", "pe"],
  summary: "SOS: an exception's type, message, inner exception and HResult (default: the current thread's last thrown)",
  usage: "printexception [ADDRESS]",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length > 1) throw new CommandError("usage: printexception [ADDRESS]", "usage");
    const src = session.managed.exceptionSource();
    const address = a.positional.length === 1 ? parseNumber(a.positional[0]!) : lastThrown(session, src);
    const type = src.typeName(address);
    const e = src.exception(address);
    if (!e) throw new CommandError(`${hexAddress(address)} is not an exception object (its type is ${type})`, "not-an-exception");
    const str = (p: number) => (p === 0 ? null : src.stringValue(p));
    return {
      address: hexAddress(address),
      type,
      message: str(e.message),
      innerException: e.innerException === 0 ? null : { address: hexAddress(e.innerException), type: src.typeName(e.innerException) },
      stackTrace: e.stackTrace === 0 ? null : stackTraceOf(src, e.stackTrace),
      stackTraceString: str(e.stackTraceString),
      remoteStackTraceString: str(e.remoteStackTraceString),
      hResult: hexDigits(e.hResult >>> 0, 8),
      backend: src.backend,
    };
  },
  render(r) {
    // SOS's FormatException: the inner exception's address with %p (upper case), HResult with %lx,
    // a blank line after a StackTraceString; RemoteStackTraceString is JSON only (SOS prints none).
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    const lines = [
      `Exception object: ${p(r.address)}`,
      `Exception type:   ${r.type}`,
      `Message:          ${r.message ?? "<none>"}`,
      `InnerException:   ${r.innerException ? `${r.innerException.type}, Use printexception ${p(r.innerException.address).toUpperCase()} to see more.` : "<none>"}`,
      "StackTrace (generated):",
    ];
    if (!r.stackTrace) lines.push("<none>");
    else if (r.stackTrace.frames) {
      // SOS's columns; an SP the runtime does not publish shows as question marks.
      lines.push("    SP               IP               Function");
      for (const f of r.stackTrace.frames) lines.push(`    ${f.sp === null ? "?".repeat(16) : hexDigits(parseInt(f.sp, 16), 16).toUpperCase()} ${hexDigits(parseInt(f.ip, 16), 16).toUpperCase()} ${f.function}`);
      lines.push("");
    } else lines.push(`    <not decoded: _stackTrace is ${r.stackTrace.type} ${p(r.stackTrace.address)}; this runtime's descriptor does not publish the stack trace element layout>`, "");
    if (r.stackTraceString !== null) lines.push(`StackTraceString: ${r.stackTraceString}`, "");
    else lines.push("StackTraceString: <none>");
    lines.push(`HResult: ${parseInt(r.hResult, 16).toString(16)}`);
    return lines.join("\n");
  },
});
