// `printexception`/`pe [<exception object>]` (SOS PrintException, strike.cpp): an exception's type,
// message, inner exception, stack trace and HResult, read through the System.Exception fields the
// runtime's data descriptor publishes, or on runtimes without one (.NET 8) through the DAC's
// GetObjectExceptionData. Without an address: the current thread's last thrown
// exception (Thread.LastThrownObject, a handle: a pointer to the object).
import { ClrscopeError, CommandError, tryOrUndefined } from "../../errors.js";
import { warn } from "../../warnings.js";
import { hexDigits } from "../../hex.js";
import { defineCommand, hexAddress, managedBackend, parseArgs, parseNumber, type Session } from "../command.js";
import { checkedDacObject, checkObject, objectTypeName } from "./dumpobj.js";
import { MAX_EXCEPTION_MESSAGE_CHARS } from "../../limits.js";

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

/** What printexception reads, from whichever backend the session uses (managedBackend). */
interface ExceptionSource {
  backend: "contracts" | "dac";
  threads(): { osId: number; lastThrownObjectHandle: number }[];
  /** Throws CommandError when `address` is not an object; the type name of an object otherwise. */
  typeName(address: number): string;
  /** System.Exception's fields, or undefined when the object is not an exception. */
  exception(address: number): { message: number; innerException: number; stackTrace: number; stackTraceString: number; remoteStackTraceString: number; hResult: number } | undefined;
  stringValue(address: number): string;
  /** The decoded frames of `_stackTrace`, or undefined when this backend cannot decode them. */
  stackFrames(stackTrace: number): ExceptionStackRow[] | undefined;
}

function exceptionSource(session: Session): ExceptionSource {
  const { contracts: rt, dac } = managedBackend(session);
  if (rt) {
    const names = session.names!;
    return {
      backend: "contracts",
      threads: () => rt.threads(),
      typeName: (address) => {
        checkObject(rt, address);
        return objectTypeName(rt, names, rt.objects().methodTableOf(address));
      },
      exception: (address) => (rt.objects().isException(rt.objects().methodTableOf(address)) ? rt.objects().exception(address) : undefined),
      stringValue: (address) => {
        // As dumpobj would: text only from an object that is a valid System.String.
        const info = tryOrUndefined(() => {
          checkObject(rt, address);
          return rt.objects().info(address);
        });
        if (!info?.isString) {
          warn(`the string object at ${hexAddress(address)} is not a valid System.String (damaged): its text is not shown`);
          return `<invalid string object ${hexAddress(address)}>`;
        }
        return rt.objects().stringValue(address, MAX_EXCEPTION_MESSAGE_CHARS);
      },
      stackFrames: (stackTrace) =>
        rt.objects().exceptionStackTrace(stackTrace)?.map((f) => {
          const block = rt.codeBlock(f.ip);
          const md = block?.methodDesc ?? f.methodDesc;
          const module = tryOrUndefined(() => rt.module(rt.methodTable(rt.methodDesc(md).methodTable).module).path) ?? "";
          const offset = block ? `+0x${(f.ip - block.start).toString(16)}` : "";
          return { sp: null, ip: hexAddress(f.ip), methodDesc: hexAddress(md), function: `${module.split("/").at(-1)}!${names.methodSignature(md)}${offset}` };
        }),
    };
  }
  return {
    backend: "dac",
    threads: () => dac.threads(),
    typeName: (address) => {
      const o = checkedDacObject(dac, address);
      return o.kind === "free" ? "Free" : dac.methodTableName(o.methodTable);
    },
    exception: (address) => {
      // GetObjectExceptionData fails (E_INVALIDARG) on objects that are not exceptions.
      try {
        const e = dac.sos.exceptionObjectData(address);
        return { message: e.Message, innerException: e.InnerException, stackTrace: e.StackTrace, stackTraceString: e.StackTraceString, remoteStackTraceString: e.RemoteStackTraceString, hResult: e.HResult };
      } catch (e) {
        if (e instanceof ClrscopeError) return undefined;
        throw e;
      }
    },
    stringValue: (address) => dac.stringValue(address, MAX_EXCEPTION_MESSAGE_CHARS),
    stackFrames: () => undefined,
  };
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

function stackTraceOf(src: ExceptionSource, stackTrace: number): NonNullable<PrintexceptionResult["stackTrace"]> {
  const frames = src.stackFrames(stackTrace);
  return { address: hexAddress(stackTrace), type: src.typeName(stackTrace), decoded: frames !== undefined, ...(frames ? { frames } : {}) };
}

export const printexception = defineCommand<PrintexceptionResult>({
  names: ["printexception", "pe"],
  summary: "SOS: an exception's type, message, inner exception and HResult (default: the current thread's last thrown)",
  usage: "printexception [ADDRESS]",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length > 1) throw new CommandError("usage: printexception [ADDRESS]", "usage");
    const src = exceptionSource(session);
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
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    const lines = [
      `Exception object: ${p(r.address)}`,
      `Exception type:   ${r.type}`,
      `Message:          ${r.message ?? "<none>"}`,
      `InnerException:   ${r.innerException ? `${r.innerException.type}, Use !PrintException ${p(r.innerException.address)} to see more.` : "<none>"}`,
      "StackTrace (generated):",
    ];
    if (!r.stackTrace) lines.push("    <none>");
    else if (r.stackTrace.frames) {
      // SOS's columns; an SP the runtime does not publish shows as question marks.
      lines.push("    SP               IP               Function");
      for (const f of r.stackTrace.frames) lines.push(`    ${f.sp === null ? "?".repeat(16) : hexDigits(parseInt(f.sp, 16), 16).toUpperCase()} ${hexDigits(parseInt(f.ip, 16), 16).toUpperCase()} ${f.function}`);
    } else lines.push(`    <not decoded: _stackTrace is ${r.stackTrace.type} ${p(r.stackTrace.address)}; this runtime's descriptor does not publish the stack trace element layout>`);
    lines.push("", `StackTraceString: ${r.stackTraceString ?? "<none>"}`);
    if (r.remoteStackTraceString) lines.push(`RemoteStackTraceString: ${r.remoteStackTraceString}`);
    lines.push(`HResult: ${r.hResult}`);
    return lines.join("\n");
  },
});
