// `printexception`/`pe [<exception object>]` (SOS PrintException, strike.cpp): an exception's type,
// message, inner exception, stack trace and HResult, read through the System.Exception fields the
// runtime's data descriptor publishes. Without an address: the current thread's last thrown
// exception (Thread.LastThrownObject, a handle: a pointer to the object).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, parseNumber, type Session } from "../command.js";
import { checkObject, objectTypeName } from "./dumpobj.js";

export interface PrintexceptionResult {
  address: string;
  type: string;
  /** null: _message is null (SOS "<none>"). */
  message: string | null;
  innerException: { address: string; type: string } | null;
  /** _stackTrace: null when the exception was never thrown; else the object, not decoded. */
  stackTrace: { address: string; type: string; decoded: false } | null;
  stackTraceString: string | null;
  remoteStackTraceString: string | null;
  /** _HResult as 8 hex digits, e.g. "80131509". */
  hResult: string;
}

const MAX_MESSAGE = 1 << 16;

/** The object the current thread's LastThrownObject handle points at. */
function lastThrown(session: Session): number {
  const rt = clrRuntime(session);
  const native = session.process.thread(session.currentThread);
  const thread = native ? rt.threads().find((t) => t.osId === native.tid) : undefined;
  if (!thread) throw new CommandError("The current thread is unmanaged", "no-managed-thread");
  const handle = thread.lastThrownObjectHandle;
  const object = handle === 0 ? 0 : session.process.memory.tryReadPointer(handle);
  if (!object || Number.isNaN(object)) throw new CommandError("There is no current managed exception on this thread", "no-exception");
  return object;
}

export const printexception = defineCommand<PrintexceptionResult>({
  names: ["printexception", "pe"],
  summary: "SOS: an exception's type, message, inner exception and HResult (default: the current thread's last thrown)",
  usage: "printexception [ADDRESS]",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length > 1) throw new CommandError("usage: printexception [ADDRESS]", "usage");
    const rt = clrRuntime(session);
    const names = session.names!;
    const address = a.positional.length === 1 ? parseNumber(a.positional[0]!) : lastThrown(session);
    checkObject(rt, address);
    const objects = rt.objects();
    const mt = objects.methodTableOf(address);
    if (!objects.isException(mt)) throw new CommandError(`${hexAddress(address)} is not an exception object (its type is ${objectTypeName(rt, names, mt)})`, "not-an-exception");
    const e = objects.exception(address);
    const str = (p: number) => (p === 0 ? null : objects.stringValue(p, MAX_MESSAGE));
    const refType = (p: number) => objectTypeName(rt, names, objects.methodTableOf(p));
    return {
      address: hexAddress(address),
      type: objectTypeName(rt, names, mt),
      message: str(e.message),
      innerException: e.innerException === 0 ? null : { address: hexAddress(e.innerException), type: refType(e.innerException) },
      stackTrace: e.stackTrace === 0 ? null : { address: hexAddress(e.stackTrace), type: refType(e.stackTrace), decoded: false },
      stackTraceString: str(e.stackTraceString),
      remoteStackTraceString: str(e.remoteStackTraceString),
      hResult: hexDigits(e.hResult >>> 0, 8),
    };
  },
  render(r) {
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    const lines = [
      `Exception object: ${p(r.address)}`,
      `Exception type:   ${r.type}`,
      `Message:          ${r.message ?? "<none>"}`,
      `InnerException:   ${r.innerException ? `${r.innerException.type}, Use !PrintException ${p(r.innerException.address)} to see more.` : "<none>"}`,
      "StackTrace (generated):",
    ];
    if (!r.stackTrace) lines.push("    <none>");
    else lines.push(`    <not decoded: _stackTrace is ${r.stackTrace.type} ${p(r.stackTrace.address)}; this runtime's descriptor does not publish the stack trace element layout>`);
    lines.push("", `StackTraceString: ${r.stackTraceString ?? "<none>"}`);
    if (r.remoteStackTraceString) lines.push(`RemoteStackTraceString: ${r.remoteStackTraceString}`);
    lines.push(`HResult: ${r.hResult}`);
    return lines.join("\n");
  },
});
