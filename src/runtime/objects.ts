// Objects through either backend: whether an address holds an object, its type's name, and the
// readers dumpobj and printexception use (the contracts' Object contract, or the DAC's
// GetObjectData, GetObjectExceptionData and field walk where the runtime has no descriptor).
import { ClrscopeError, CommandError, tryOrUndefined } from "../errors.js";
import { hex } from "../hex.js";
import { MAX_EXCEPTION_MESSAGE_CHARS } from "../limits.js";
import { warn } from "../warnings.js";
import type { ClrRuntime } from "./clr-runtime.js";
import { MissingRuntimeDataError } from "./contracts/descriptor.js";
import { GlobalUnreadableError } from "./contracts/target.js";
import type { DacRuntime } from "./dac/dac-runtime.js";
import type { ManagedNames } from "./managed-names.js";
import type { ExceptionSource, ManagedObject, ObjectReader } from "./model.js";

/** A type's name as SOS prints it, falling back to the MethodTable address. */
export function typeNameOf(names: ManagedNames, methodTable: number): string {
  return names.typeName(methodTable) ?? `<Unloaded Type ${hex(methodTable)}>`;
}

/** Whether `address` holds an object: its MethodTable's EEClass points back at the canonical MethodTable. */
export function checkObject(rt: ClrRuntime, address: number): void {
  const bad = () => new CommandError(`${hex(address)} is not a valid object`, "not-an-object");
  try {
    const mt = rt.objects().methodTableOf(address);
    if (mt === 0) throw bad();
    if (!rt.objects().isValidMethodTable(mt)) throw bad();
  } catch (e) {
    // A global the check needs that is missing or unreadable says nothing about the object: say which.
    if (e instanceof CommandError || e instanceof GlobalUnreadableError || e instanceof MissingRuntimeDataError) throw e;
    if (e instanceof ClrscopeError) throw bad();
    throw e;
  }
}

/** A type's name by its MethodTable, from whichever backend names types in this session. */
export type TypeNamer = (methodTable: number) => string | undefined;

/** The DAC's type name of an object's MethodTable ("Free" for free space; arrays "System.Int32[]", "System.Int32[,]"). */
export function objectTypeName(rt: ClrRuntime, names: ManagedNames, methodTable: number, nameOf?: TypeNamer): string {
  const d = rt.typeSystemDetails().methodTableDetails(methodTable);
  if (d.isFree) return "Free";
  return (nameOf ?? ((mt) => names.typeName(mt)))(methodTable) ?? `<Unloaded Type ${hex(methodTable)}>`;
}

/** The DAC's GetObjectData of `address`; CommandError(not-an-object) when the DAC rejects it. */
export function checkedDacObject(dac: DacRuntime, address: number): ManagedObject {
  try {
    return dac.object(address);
  } catch (e) {
    if (e instanceof ClrscopeError) throw new CommandError(`${hex(address)} is not a valid object`, "not-an-object");
    throw e;
  }
}

/** Objects as the DAC reads them. */
export function dacObjectReader(dac: DacRuntime): ObjectReader {
  return {
    backend: "dac",
    from: dac.path,
    object: (address) => checkedDacObject(dac, address),
    methodTable: (address) => dac.methodTable(address),
    typeName: (methodTable) => dac.methodTableName(methodTable),
    modulePath: (module) => dac.modulePath(module),
    moduleMetadata: (module) => dac.moduleMetadata(module),
    stringValue: (address, maxChars) => dac.stringValue(address, maxChars),
    fieldList: (methodTable, address) => dac.fieldList(methodTable, address),
    tryRead: (address, length) => dac.tryRead(address, length),
  };
}

/** printexception's reads through the data contracts. */
export function contractsExceptionSource(rt: ClrRuntime, names: ManagedNames): ExceptionSource {
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
        warn(`the string object at ${hex(address)} is not a valid System.String (damaged): its text is not shown`);
        return `<invalid string object ${hex(address)}>`;
      }
      return rt.objects().stringValue(address, MAX_EXCEPTION_MESSAGE_CHARS);
    },
    stackFrames: (stackTrace) =>
      rt.objects().exceptionStackTrace(stackTrace)?.map((f) => {
        const block = rt.codeBlock(f.ip);
        const md = block?.methodDesc ?? f.methodDesc;
        const module = tryOrUndefined(() => rt.module(rt.methodTable(rt.methodDesc(md).methodTable).module).path) ?? "";
        return { sp: null, ip: f.ip, methodDesc: md, moduleFileName: module.split("/").at(-1) ?? "", method: names.methodSignature(md), offset: block ? f.ip - block.start : null };
      }),
  };
}

/** printexception's reads through the DAC (runtimes without a descriptor: .NET 8). */
export function dacExceptionSource(dac: DacRuntime): ExceptionSource {
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
