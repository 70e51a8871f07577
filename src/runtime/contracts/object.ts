// Object contract, version 1 (dotnet/runtime docs/design/datacontracts/Object.md): an object's
// MethodTable (m_pMethTab with the low tag bits masked off), String contents, array lengths and
// data, and the System.Exception fields the descriptor publishes. Every offset comes from the
// runtime's descriptor (Object, String, Array, Exception types; ObjectToMethodTableUnmask,
// ObjectHeaderSize, StringMethodTable globals).
import type { ExceptionObjectFields } from "../model.js";
import { CorruptDataError } from "../../errors.js";
import type { RuntimeTypeSystemDetails } from "./runtime-type-system.js";
import type { RuntimeTarget } from "./target.js";
import { MAX_EXCEPTION_STACK_FRAMES, MAX_STRING_CHARS } from "../../limits.js";


export interface ObjectInfo {
  address: number;
  methodTable: number;
  /** Bytes the object takes: BaseSize, plus ComponentSize * length for strings and arrays (the DAC's size, unaligned). */
  size: number;
  isString: boolean;
  isArray: boolean;
  isFree: boolean;
  /** Number of components (string chars or array elements); 0 for other objects. */
  components: number;
}

export interface ArrayInfo {
  /** Number of elements (all dimensions). */
  length: number;
  /** 1 for single-dimensional arrays (SZARRAY); multi-dimensional rank read from the MethodTable is not published, so reported as undefined. */
  rank: number | undefined;
  /** The element TypeHandle (MethodTable, or a TypeDesc when its low bit 2 is set). */
  elementTypeHandle: number;
  /** Address of the first element. */
  dataAddress: number;
}

/** One System.Exception field as the descriptor publishes it (offset from the object's address). */
export interface ExceptionField {
  name: string;
  offset: number;
  /** "ref" fields hold object references; "int32" fields hold values. */
  kind: "ref" | "int32";
  value: number;
}

export interface ExceptionInfo extends ExceptionObjectFields {
  /** Every Exception field in the descriptor, in offset order. */
  fields: ExceptionField[];
}

const INT32_EXCEPTION_FIELDS = new Set(["_xcode", "_HResult"]);

/** One frame of an exception's captured stack trace (a StackTraceElement). */
export interface ExceptionStackFrame {
  ip: number;
  methodDesc: number;
  flags: number;
}

export class ObjectContract {
  constructor(
    private readonly t: RuntimeTarget,
    private readonly types: RuntimeTypeSystemDetails,
  ) {}

  /** Object.GetMethodTableAddress: m_pMethTab without its tag bits. */
  methodTableOf(address: number): number {
    const raw = this.t.pointerField(address, "Object", "m_pMethTab");
    const unmask = this.t.descriptor.global("ObjectToMethodTableUnmask");
    return raw - (raw % (unmask + 1));
  }

  info(address: number): ObjectInfo {
    const methodTable = this.methodTableOf(address);
    if (methodTable === 0) throw new CorruptDataError(`object 0x${address.toString(16)} has no MethodTable`);
    const mt = this.types.methodTableDetails(methodTable);
    let components = 0;
    if (mt.isString) components = this.t.u32Field(address, "String", "m_StringLength");
    else if (mt.isArray || mt.componentSize !== 0) components = this.t.u32Field(address, "Array", "m_NumComponents");
    // As the DAC's GetObjectData (and so SOS's dumpobj): no minimum, no alignment (an empty string is 22 bytes).
    const size = mt.baseSize + mt.componentSize * components;
    return { address, methodTable, size, isString: mt.isString, isArray: mt.isArray, isFree: mt.isFree, components };
  }

  /**
   * Whether `methodTable` looks like a real MethodTable: its EEClass points back at its canonical
   * MethodTable (EEClass.MethodTable), as for every loaded type. The free-object MethodTable passes.
   */
  isValidMethodTable(methodTable: number): boolean {
    const d = this.types.methodTableDetails(methodTable);
    if (d.isFree) return true;
    if (d.eeClass === 0 || d.module === 0) return false;
    return this.t.pointerField(d.eeClass, "EEClass", "MethodTable") === d.canonicalMethodTable;
  }

  /** Offsets of the String fields the descriptor publishes. */
  stringLayout(): { lengthOffset: number; firstCharOffset: number } {
    return { lengthOffset: this.t.descriptor.offset("String", "m_StringLength"), firstCharOffset: this.t.descriptor.offset("String", "m_FirstChar") };
  }

  /** An array MethodTable's element TypeHandle (MethodTable.PerInstInfo holds it for arrays). */
  elementTypeHandle(arrayMethodTable: number): number {
    return this.t.pointerField(arrayMethodTable, "MethodTable", "PerInstInfo");
  }

  /** Whether `methodTable` is the runtime's System.String MethodTable. */
  isStringMethodTable(methodTable: number): boolean {
    return this.t.descriptor.hasGlobal("StringMethodTable") && this.t.globalVariable("StringMethodTable") === methodTable;
  }

  /** Object.GetStringValue: m_StringLength UTF-16 units from m_FirstChar (at most `maxChars`). */
  stringValue(address: number, maxChars = MAX_STRING_CHARS): string {
    const length = this.t.u32Field(address, "String", "m_StringLength");
    const n = Math.min(length, maxChars);
    if (n === 0) return "";
    const bytes = this.t.memory.read(this.t.at(address, "String", "m_FirstChar"), n * 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let out = "";
    for (let i = 0; i < n; i += 4096) {
      const chunk: number[] = [];
      for (let j = i; j < Math.min(n, i + 4096); j++) chunk.push(view.getUint16(j * 2, true));
      out += String.fromCharCode(...chunk);
    }
    return out;
  }

  /** Object.GetArrayData for single-dimensional arrays: length, element TypeHandle (MethodTable.PerInstInfo) and data start. */
  arrayInfo(address: number): ArrayInfo {
    const methodTable = this.methodTableOf(address);
    const mt = this.types.methodTableDetails(methodTable);
    if (!mt.isArray) throw new CorruptDataError(`object 0x${address.toString(16)} is not an array`);
    const length = this.t.u32Field(address, "Array", "m_NumComponents");
    // .NET 11 dropped the ObjectHeaderSize global for an ObjectHeader type with its size.
    const d = this.t.descriptor;
    const objectHeaderSize = d.hasGlobal("ObjectHeaderSize") ? d.global("ObjectHeaderSize") : d.size("ObjectHeader");
    // Single-dimensional arrays carry no bounds; the descriptor's Array size then equals the SZARRAY header.
    const isSzArray = mt.baseSize - objectHeaderSize === this.t.descriptor.size("Array");
    return {
      length,
      rank: isSzArray ? 1 : undefined,
      elementTypeHandle: this.elementTypeHandle(methodTable),
      dataAddress: address + mt.baseSize - objectHeaderSize,
    };
  }

  /** Whether the object's type is System.Exception or derives from it (ExceptionMethodTable global). */
  isException(methodTable: number): boolean {
    if (!this.t.descriptor.hasGlobal("ExceptionMethodTable")) return false;
    const exception = this.t.globalVariable("ExceptionMethodTable");
    let mt = methodTable;
    for (let depth = 0; mt !== 0 && depth < 256; depth++) {
      if (mt === exception) return true;
      mt = this.t.pointerField(mt, "MethodTable", "ParentMethodTable");
    }
    return false;
  }

  /**
   * The frames of an exception's `_stackTrace` (Exception contract "c1", .NET 11): a byte array
   * holding a StackTraceArrayHeader and `Size` StackTraceElements, or an object[] whose slot 0 is
   * that byte array (when frames need keep-alive objects). Undefined when this runtime's
   * descriptor does not publish those layouts (.NET 10 and older).
   */
  exceptionStackTrace(stackTrace: number): ExceptionStackFrame[] | undefined {
    const t = this.t;
    const d = t.descriptor;
    if (!d.types.has("StackTraceArrayHeader") || !d.types.has("StackTraceElement") || stackTrace === 0) return undefined;
    let bytes = stackTrace;
    if (this.types.methodTableDetails(this.methodTableOf(stackTrace)).containsGCPointers) {
      bytes = t.pointer(this.arrayInfo(stackTrace).dataAddress);
      if (bytes === 0) return [];
    }
    const array = this.arrayInfo(bytes);
    const count = t.u32Field(array.dataAddress, "StackTraceArrayHeader", "Size");
    const headerSize = d.size("StackTraceArrayHeader");
    const elementSize = d.size("StackTraceElement");
    // The elements live in the byte array: more than it holds is damage.
    if (headerSize + count * elementSize > array.length || count > MAX_EXCEPTION_STACK_FRAMES) {
      throw new CorruptDataError(`the stack trace array at 0x${bytes.toString(16)} claims ${count} frames, more than its ${array.length} bytes hold (damaged)`);
    }
    const out: ExceptionStackFrame[] = [];
    for (let i = 0; i < count; i++) {
      const e = array.dataAddress + headerSize + i * elementSize;
      out.push({ ip: t.pointerField(e, "StackTraceElement", "Ip"), methodDesc: t.pointerField(e, "StackTraceElement", "MethodDesc"), flags: t.u32Field(e, "StackTraceElement", "Flags") });
    }
    return out;
  }

  /** The System.Exception fields the descriptor publishes (the Exception type). */
  exception(address: number): ExceptionInfo {
    const t = this.t;
    const layout = t.descriptor.types.get("Exception");
    if (!layout) throw new CorruptDataError("the runtime's descriptor publishes no Exception type");
    const fields: ExceptionField[] = [...layout.fields]
      .map(([name, l]) => {
        const kind = INT32_EXCEPTION_FIELDS.has(name) ? ("int32" as const) : ("ref" as const);
        return { name, offset: l.offset, kind, value: kind === "int32" ? t.i32(address + l.offset) : t.pointer(address + l.offset) };
      })
      .sort((a, b) => a.offset - b.offset);
    const get = (name: string) => fields.find((f) => f.name === name)?.value ?? 0;
    return {
      message: get("_message"),
      innerException: get("_innerException"),
      stackTrace: get("_stackTrace"),
      stackTraceString: get("_stackTraceString"),
      remoteStackTraceString: get("_remoteStackTraceString"),
      hResult: get("_HResult"),
      fields,
    };
  }
}
