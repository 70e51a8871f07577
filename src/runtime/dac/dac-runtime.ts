// The DAC backend: the runtime's own DAC answering through ISOSDacInterface, shaped like the
// managed model (runtime/clr-runtime.ts) so that its answers can be compared with the contracts
// backend's and used where the descriptor publishes too little (instance fields of any type).
import type { Memory } from "../../dump/address-space.js";
import { ClrscopeError } from "../../errors.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { ET } from "../../metadata/signatures.js";
import { MAX_FIELDS_PER_TYPE, MAX_PARENT_TYPES, MAX_STRUCT_DEPTH, MAX_THREAD_STATIC_THREADS } from "../../limits.js";
import type { NativeProcess } from "../../native/process.js";
import type { ManagedThread, ThreadStoreCounts } from "../clr-runtime.js";
import type { FieldValue, ManagedField, ManagedObject } from "../model.js";
import { readImageMetadata } from "../managed-names.js";
import { resolve } from "node:path";
import { DacHost } from "./dac-host-client.js";
import type { TrustedDac } from "./dac-provenance.js";
import type { DacFieldDescData, SosDac } from "./sos-dac.js";
import type { DacStackFrame, StackWalkOptions, XclrDataProcess } from "./xclrdata.js";
import { T, token, tokenRid } from "../../metadata/tables.js";
import { POINTER_SIZE } from "../../dump/address-space.js";

/** A frame of the DAC's stack walk with what SOS prints for it. */
export interface DacWalkedFrame extends DacStackFrame {
  /** The managed frame's MethodDesc (GetMethodDescPtrFromIP), 0 for explicit Frames. */
  methodDesc: number;
  /** The explicit Frame's class name (GetFrameName), "" for managed frames. */
  frameName: string;
}

export interface DacMethodTable {
  address: number;
  module: number;
  eeClass: number;
  parent: number;
  baseSize: number;
  componentSize: number;
  token: number;
  numMethods: number;
  numVirtuals: number;
  numVtableSlots: number;
  numInterfaces: number;
  isFree: boolean;
  containsPointers: boolean;
}

export interface DacMethodDesc {
  address: number;
  methodTable: number;
  module: number;
  token: number;
  slot: number;
  hasNativeCode: boolean;
  nativeCode: number;
}

export type DacObject = ManagedObject;
export type DacFieldValue = FieldValue;
export type DacField = ManagedField;

/** Where SOS looks for a static: classes and structs in the GC statics, primitives in the non-GC ones. */
function isGcStatic(et: number): boolean {
  return et === ET.VALUETYPE || et === ET.CLASS;
}

const OBJECT_KINDS = ["string", "free", "object", "array", "other"] as const;

/** A loaded DAC as the backend uses it: its two interfaces (answered by the DAC host process) and where it came from. */
interface DacConnection extends TrustedDac {
  sos: SosDac;
  xclr: XclrDataProcess;
  /** Milliseconds the DAC took to load (dlopen to a usable ISOSDacInterface). */
  initMs: number;
  /** Many calls in one round trip, when the DAC answers from a host process (dac-host-client.ts). */
  batch?: Pick<DacHost, "callMany">;
}

/** A thread's walk as stackWalk gives it, or the error that walk threw. */
export type DacThreadWalk = { frames: DacWalkedFrame[] | undefined } | { error: ClrscopeError };

export class DacRuntime {
  private readonly metadata = new Map<number, MetadataReader | null>();

  constructor(
    private readonly dac: DacConnection,
    private readonly memory: Memory,
  ) {}

  get path(): string {
    return this.dac.path;
  }
  /** Why this DAC may be loaded (dac-provenance.ts). */
  get source(): string {
    return this.dac.source;
  }
  get initMs(): number {
    return this.dac.initMs;
  }
  get version(): string | undefined {
    return this.dac.version;
  }
  get sos(): SosDac {
    return this.dac.sos;
  }

  /** The IL offsets the JIT mapped to a code address, with its method's token (XclrDataProcess.ilOffsetsAt). */
  ilOffsetsAt(address: number): { methodToken: number; ilOffsets: number[] } | undefined {
    return this.dac.xclr.ilOffsetsAt(address);
  }

  /**
   * A thread's stack as the DAC walks it (IXCLRDataTask::CreateStackWalk), innermost first:
   * managed frames and explicit Frames; undefined when the thread is not managed.
   */
  stackWalk(osThreadId: number, options: StackWalkOptions = {}): DacWalkedFrame[] | undefined {
    return this.named(this.dac.xclr.stackWalk(osThreadId, options));
  }

  /**
   * Many threads' walks, each as stackWalk gives it or the error it threw. From a DAC host this is
   * one round trip for the walks and one per kind of name lookup, not one per thread and frame.
   * A host that dies during the batch throws (DacHostError), as a single walk would.
   */
  stackWalks(osThreadIds: number[], options: StackWalkOptions = {}): DacThreadWalk[] {
    const batch = this.dac.batch;
    const one = (walk: () => DacWalkedFrame[] | undefined): DacThreadWalk => {
      try {
        return { frames: walk() };
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
        return { error: e };
      }
    };
    if (!batch) return osThreadIds.map((id) => one(() => this.stackWalk(id, options)));
    const walks = batch.callMany("xclr", "stackWalk", osThreadIds.map((id) => [id, options]));
    // The names stackWalk looks up, asked for all frames at once (kept: the single calls then cost no trip).
    const ips = new Set<number>();
    const ids = new Set<number>();
    for (const w of walks) {
      if ("error" in w) continue;
      for (const f of (w.value as DacStackFrame[] | undefined) ?? []) {
        if (f.frameAddress === 0) ips.add(f.ip);
        else {
          const id = this.frameIdentifier(f.frameAddress);
          if (id !== undefined) ids.add(id);
        }
      }
    }
    batch.callMany("sos", "methodDescFromIp", [...ips].map((ip) => [ip]));
    batch.callMany("sos", "frameName", [...ids].map((id) => [id]));
    return walks.map((w) => {
      if (!("error" in w)) return one(() => this.named(w.value as DacStackFrame[] | undefined));
      // A bug in the host stays a bug here, as with a single call.
      if (!(w.error instanceof ClrscopeError)) throw w.error;
      return { error: w.error };
    });
  }

  /**
   * Many ISOSDacInterface calls of one method in one round trip, whose answers are kept: the
   * single calls that follow cost no trip. Errors are left for those calls to throw.
   */
  prefetch(method: "methodDescFromFrame" | "methodDescData" | "methodDescName" | "moduleData" | "peFileName", argsList: number[][]): void {
    if (argsList.length > 0) this.dac.batch?.callMany("sos", method, argsList);
  }

  /** The first word of an explicit Frame: its vtable (FrameIdentifier from .NET 10), which names it. */
  private frameIdentifier(frameAddress: number): number | undefined {
    const id = this.memory.tryRead(frameAddress, POINTER_SIZE);
    return id ? Number(new DataView(id.buffer, id.byteOffset, 8).getBigUint64(0, true)) : undefined;
  }

  private named(frames: DacStackFrame[] | undefined): DacWalkedFrame[] | undefined {
    return frames?.map((f) => {
      if (f.frameAddress === 0) return { ...f, methodDesc: this.sos.methodDescFromIp(f.ip), frameName: "" };
      const id = this.frameIdentifier(f.frameAddress);
      let name = "Frame";
      if (id !== undefined) {
        try {
          name = this.sos.frameName(id);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
        }
      }
      return { ...f, methodDesc: 0, frameName: name };
    });
  }

  threadStoreCounts(): ThreadStoreCounts {
    const s = this.sos.threadStoreData();
    return { threadCount: s.threadCount, unstarted: s.unstartedThreadCount, background: s.backgroundThreadCount, pending: s.pendingThreadCount, dead: s.deadThreadCount };
  }

  /** The ThreadStore's list, in its order (GetThreadStoreData.firstThread, GetThreadData.nextThread), with each thread's AppDomain. */
  threads(): (ManagedThread & { domain: number })[] {
    const store = this.sos.threadStoreData();
    const out: (ManagedThread & { domain: number })[] = [];
    const seen = new Set<number>();
    for (let t = store.firstThread; t !== 0 && !seen.has(t); ) {
      seen.add(t);
      const d = this.sos.threadData(t);
      out.push({
        address: t,
        managedId: d.corThreadId,
        osId: d.osThreadId,
        state: d.state >>> 0,
        preemptiveGCDisabled: d.preemptiveGCDisabled !== 0,
        allocContext: { pointer: d.allocContextPtr, limit: d.allocContextLimit },
        frame: d.pFrame,
        lastThrownObjectHandle: d.lastThrownObjectHandle,
        firstNestedException: d.firstNestedException,
        isFinalizer: t === store.finalizerThread,
        isGC: t === store.gcThread,
        domain: d.domain,
      });
      t = d.nextThread;
    }
    return out;
  }

  methodTable(address: number): DacMethodTable {
    const d = this.sos.methodTableData(address);
    return {
      address,
      module: d.Module,
      eeClass: d.Class,
      parent: d.ParentMethodTable,
      baseSize: d.BaseSize,
      componentSize: d.ComponentSize,
      token: d.cl >>> 0,
      numMethods: d.wNumMethods,
      numVirtuals: d.wNumVirtuals,
      numVtableSlots: d.wNumVtableSlots,
      numInterfaces: d.wNumInterfaces,
      isFree: d.bIsFree !== 0,
      containsPointers: d.bContainsPointers !== 0,
    };
  }

  methodTableName(address: number): string {
    return this.sos.methodTableName(address);
  }

  methodDesc(address: number): DacMethodDesc {
    const d = this.sos.methodDescData(address);
    return {
      address,
      methodTable: d.MethodTablePtr,
      module: d.ModulePtr,
      token: d.MDToken >>> 0,
      slot: d.wSlotNumber,
      hasNativeCode: d.bHasNativeCode !== 0,
      nativeCode: d.NativeCodeAddr,
    };
  }

  /** The AppDomain's assemblies in load order (GetAppDomainList, GetAssemblyList). */
  assemblies(): { domain: number; assembly: number }[] {
    const domain = this.sos.appDomainList()[0];
    if (domain === undefined) return [];
    return this.sos.assemblyList(domain).map((assembly) => ({ domain, assembly }));
  }

  /** The modules of the AppDomain's assemblies, in load order. */
  moduleAddresses(): number[] {
    return this.assemblies().flatMap((a) => this.sos.assemblyModuleList(a.assembly));
  }

  /** A module's file (its PEAssembly's path; "" for modules without one). */
  modulePath(module: number): string {
    const m = this.sos.moduleData(module);
    if (m.PEAssembly === 0) return "";
    try {
      return this.sos.peFileName(m.PEAssembly);
    } catch (e) {
      if (e instanceof ClrscopeError) return "";
      throw e;
    }
  }

  /** The metadata of a module's image in dump memory (undefined: dynamic module or pages missing). */
  moduleMetadata(module: number): MetadataReader | undefined {
    let md = this.metadata.get(module);
    if (md === undefined) {
      md = null;
      try {
        const m = this.sos.moduleData(module);
        md = readImageMetadata(this.memory, m.ilBase, this.modulePath(module)) ?? null;
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
      }
      this.metadata.set(module, md);
    }
    return md ?? undefined;
  }

  /** A string object's text (GetObjectStringData), at most `maxChars`. */
  stringValue(address: number, maxChars: number): string {
    return this.sos.objectStringData(address).slice(0, maxChars);
  }

  object(address: number): DacObject {
    const d = this.sos.objectData(address);
    return {
      address,
      methodTable: d.MethodTable,
      size: d.Size,
      kind: OBJECT_KINDS[d.ObjectType] ?? "other",
      components: d.dwNumComponents,
      rank: d.dwRank,
      elementTypeHandle: d.ElementTypeHandle,
      elementType: d.ElementType,
      arrayData: d.ArrayDataPtr,
    };
  }

  /**
   * The fields of an object (SOS DisplayFields): the parents' first, then the type's own, each
   * type's in FieldDesc order, statics included. `address` is the object, or for a value type
   * (`valueType`) the start of its data. Throws when the first FieldDesc cannot be read.
   */
  fields(methodTable: number, address: number, valueType = false, depth = 0): DacField[] {
    const list = this.fieldList(methodTable, address, valueType, depth);
    if (list.failure && list.fields.length === 0) throw new ClrscopeError("dac-fields", list.failure);
    return list.fields;
  }

  /**
   * The fields of an object as SOS's DisplayFields walks them, and where the walk stopped early
   * (`failure`: SOS prints "Unable to display fields" there). A type's FieldDesc list holds its
   * own instance fields, then its statics; GetMethodTableFieldData's instance count includes the
   * parents' fields, so the instance fields already listed for the parents count against it (SOS
   * keeps that count across its recursion): a derived type lists only its own after its parents'.
   */
  fieldList(methodTable: number, address: number, valueType = false, depth = 0): { fields: DacField[]; failure?: string } {
    const chain: number[] = [];
    for (let mt = methodTable; mt !== 0 && chain.length < MAX_PARENT_TYPES; mt = this.sos.methodTableData(mt).ParentMethodTable) chain.unshift(mt);
    const fields: DacField[] = [];
    let instanceFields = 0;
    for (const mt of chain) {
      const data = this.sos.methodTableData(mt);
      const counts = this.sos.methodTableFieldData(mt);
      let statics = 0;
      let fd = counts.FirstField;
      for (let i = 0; (instanceFields < counts.wNumInstanceFields || statics < counts.wNumStaticFields) && i < MAX_FIELDS_PER_TYPE; i++) {
        let f: DacFieldDescData;
        try {
          f = this.sos.fieldDescData(fd);
        } catch (e) {
          if (!(e instanceof ClrscopeError)) throw e;
          return { fields, failure: `the fields of ${this.methodTableName(mt)} cannot be read: ${e.message}` };
        }
        if (f.bIsStatic) statics++;
        else instanceFields++;
        fields.push(this.field(mt, data.Module, fd, f, address, valueType, depth));
        fd = f.NextField;
      }
    }
    return { fields };
  }

  private field(mt: number, module: number, fieldDesc: number, f: DacFieldDescData, base: number, valueType: boolean, depth: number): DacField {
    const isStatic = f.bIsStatic !== 0;
    const isThreadStatic = isStatic && f.bIsThreadLocal !== 0;
    // FieldDesc offsets count from an object's data, after its MethodTable pointer; SOS's Offset
    // column (and ours) counts from the object's address, so adds one pointer (sizeof(BaseObject)).
    const headerBytes = valueType ? 0 : POINTER_SIZE;
    const field: DacField = {
      declaringMethodTable: mt,
      fieldDesc,
      token: token(T.Field, tokenRid(f.mb)),
      module,
      elementType: f.Type,
      sigElementType: f.sigType,
      typeMethodTable: f.MTOfType,
      typeToken: f.TokenOfType >>> 0,
      // As SOS's Offset column: statics too count the object header (their offset is from the
      // static base, but SOS adds it all the same); thread statics do not.
      offset: isThreadStatic ? f.dwOffset : f.dwOffset + headerBytes,
      isStatic,
      isThreadStatic,
      address: 0,
      value: { kind: "unavailable", reason: "" },
    };
    if (isThreadStatic) {
      field.value = this.threadStaticValues(mt, f);
      return field;
    }
    if (isStatic) {
      let bases;
      try {
        bases = this.staticBases(mt, module);
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
        field.value = { kind: "unavailable", reason: e.message };
        return field;
      }
      if (!bases) {
        field.value = { kind: "unavailable", reason: "statics of generic instantiations (dynamic statics) are not located without ISOSDacInterface14", dynamicStatics: true };
        return field;
      }
      // As SOS's GetStaticFieldPTR: classes and structs (boxed) live in the GC statics, the rest in the non-GC statics.
      const staticBase = isGcStatic(f.Type) ? bases.gc : bases.nonGC;
      if (staticBase === 0) {
        field.value = { kind: "unallocated" };
        return field;
      }
      field.address = staticBase + f.dwOffset;
      field.value = this.staticValue(f.Type, field.address);
      return field;
    }
    field.address = base + f.dwOffset + headerBytes;
    if (f.Type === ET.VALUETYPE && f.MTOfType !== 0 && depth < MAX_STRUCT_DEPTH) {
      let nested: DacField[] = [];
      try {
        nested = this.fields(f.MTOfType, field.address, true, depth + 1).filter((x) => !x.isStatic);
      } catch (e) {
        if (!(e instanceof ClrscopeError)) throw e;
      }
      field.value = { kind: "struct", address: field.address, fields: nested };
    } else {
      field.value = this.readValue(f.Type, field.address);
    }
    return field;
  }

  /** A static's value; a static struct is boxed: SOS shows the static's own address when the box exists, else 0. */
  private staticValue(et: number, at: number): DacFieldValue {
    if (et !== ET.VALUETYPE) return this.readValue(et, at);
    const box = this.readValue(ET.CLASS, at);
    if (box.kind !== "ref") return box;
    return box.value === 0 ? { kind: "ref", value: 0 } : { kind: "struct", address: at, fields: [] };
  }

  /**
   * A thread static's value on each thread that has its type's thread statics allocated (SOS's
   * DisplayThreadStatic over ISOSDacInterface14), in the thread store's order.
   */
  private threadStaticValues(mt: number, f: DacFieldDescData): DacFieldValue {
    const values: { osThreadId: number; value: DacFieldValue }[] = [];
    try {
      let thread = this.sos.threadStoreData().firstThread;
      for (let i = 0; thread !== 0 && i < MAX_THREAD_STATIC_THREADS; i++) {
        const t = this.sos.threadData(thread);
        if (t.osThreadId !== 0) {
          const base = this.threadStaticBase(mt, thread, isGcStatic(f.Type));
          if (base !== 0) values.push({ osThreadId: t.osThreadId, value: this.staticValue(f.Type, base + f.dwOffset) });
        }
        thread = t.nextThread;
      }
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { kind: "unavailable", reason: e.message };
    }
    return { kind: "perThread", values };
  }

  /**
   * Where one thread's thread statics of a type live, 0 when not allocated there:
   * ISOSDacInterface14 (.NET 9+), else as SOS's DisplayThreadStatic reads the thread's
   * ThreadLocalModule: allocated when its class flags say so (4) and the type's class
   * constructor has run (the DomainLocalModule's flag 1). Dynamic statics are not located (SOS
   * cannot either).
   */
  private threadStaticBase(mt: number, thread: number, gc: boolean): number {
    const modern = this.sos.threadStaticBaseAddress(mt, thread);
    if (modern) return gc ? modern.gc : modern.nonGC;
    const data = this.sos.methodTableData(mt);
    if (data.bIsDynamic) return 0;
    const classFlag = (classData: number): number => this.memory.tryRead(classData + tokenRid(data.cl) - 1, 1)?.[0] ?? 0;
    let dlm, tlm;
    try {
      dlm = this.sos.domainLocalModuleData(data.Module);
      tlm = this.sos.threadLocalModuleData(thread, this.sos.moduleData(data.Module).dwModuleIndex);
    } catch (e) {
      if (e instanceof ClrscopeError) return 0; // not allocated on this thread
      throw e;
    }
    if ((classFlag(tlm.pClassData) & 4) === 0 || (classFlag(dlm.pClassData) & 1) === 0) return 0;
    return gc ? tlm.pGCStaticDataStart : tlm.pNonGCStaticDataStart;
  }

  /**
   * Where a type's statics live: ISOSDacInterface14::GetStaticBaseAddress (.NET 9+), else the
   * module's DomainLocalModule as SOS's GetStaticFieldPTR reads it (not for dynamic statics:
   * undefined).
   */
  private staticBases(mt: number, module: number): { nonGC: number; gc: number } | undefined {
    const modern = this.sos.staticBaseAddress(mt);
    if (modern) return modern;
    if (this.sos.methodTableData(mt).bIsDynamic) return undefined;
    const dlm = this.sos.domainLocalModuleData(module);
    return { nonGC: dlm.pNonGCStaticDataStart, gc: dlm.pGCStaticDataStart };
  }

  /** Bytes of the dump's memory (undefined where the dump lacks them). */
  tryRead(address: number, length: number): Uint8Array | undefined {
    return this.memory.tryRead(address, length) ?? undefined;
  }

  private readValue(et: number, at: number): DacFieldValue {
    const size = elementSize(et);
    if (size === 0) return { kind: "struct", address: at, fields: [] };
    const bytes = this.memory.tryRead(at, size);
    if (!bytes) return { kind: "unavailable", reason: `memory at 0x${at.toString(16)} is not in the dump` };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (et) {
      case ET.BOOLEAN:
        return { kind: "bool", value: dv.getUint8(0) !== 0 };
      case ET.CHAR:
        return { kind: "char", value: dv.getUint16(0, true) };
      case ET.I1:
        return { kind: "int", value: dv.getInt8(0) };
      case ET.U1:
        return { kind: "int", value: dv.getUint8(0) };
      case ET.I2:
        return { kind: "int", value: dv.getInt16(0, true) };
      case ET.U2:
        return { kind: "int", value: dv.getUint16(0, true) };
      case ET.I4:
        return { kind: "int", value: dv.getInt32(0, true) };
      case ET.U4:
        return { kind: "int", value: dv.getUint32(0, true) };
      case ET.I8:
        return { kind: "int", value: dv.getBigInt64(0, true).toString() };
      case ET.U8:
        return { kind: "int", value: dv.getBigUint64(0, true).toString() };
      case ET.R4:
        return { kind: "float", value: dv.getFloat32(0, true) };
      case ET.R8:
        return { kind: "float", value: dv.getFloat64(0, true) };
      case ET.I:
      case ET.U:
      case ET.PTR:
      case ET.FNPTR:
        return { kind: "pointer", value: "0x" + dv.getBigUint64(0, true).toString(16) };
      default: {
        const ref = dv.getBigUint64(0, true);
        if (ref > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: "unavailable", reason: `0x${ref.toString(16)} is not a valid reference` };
        return { kind: "ref", value: Number(ref) };
      }
    }
  }
}

/** Bytes of a field's storage by element type; 0 for embedded structs. */
function elementSize(et: number): number {
  switch (et) {
    case ET.BOOLEAN:
    case ET.I1:
    case ET.U1:
      return 1;
    case ET.CHAR:
    case ET.I2:
    case ET.U2:
      return 2;
    case ET.I4:
    case ET.U4:
    case ET.R4:
      return 4;
    case ET.VALUETYPE:
      return 0;
    default:
      return 8;
  }
}

/** A DAC host started in the background for a dump (the trusted DAC loading there), or why there is none. */
export interface StartedDac {
  host?: DacHost;
  trusted?: TrustedDac;
  error?: string;
}

/**
 * Starts a host process that finds the trusted DAC for a dump (findTrustedDac, there: the module
 * list and build-id checks cost this process nothing) and loads it; returns at once.
 */
export function startDac(process: NativeProcess, userPath?: string): StartedDac {
  const host = new DacHost({ kind: "init", dump: resolve(process.core.source.name), options: process.options, userDacPath: userPath });
  try {
    host.start();
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    return { error: e.message };
  }
  return { host };
}

/** The DAC backend over a started host, once its DAC has loaded; or why not (one line). */
export function dacRuntimeOf(started: StartedDac, memory: Memory): { dac?: DacRuntime; error?: string } {
  const { host } = started;
  if (!host) return { error: started.error };
  const ready = host.ready();
  if ("error" in ready) return { error: ready.error };
  const trusted = ready.trusted ?? started.trusted;
  if (!trusted) return { error: "the DAC host did not say which DAC it loaded" };
  return { dac: new DacRuntime({ ...trusted, sos: host.sos, xclr: host.xclr, initMs: ready.initMs, batch: host }, memory) };
}

/** Opens the DAC backend for a dump (in a host process), or says why not (one line). */
export function openDacRuntime(process: NativeProcess, userPath?: string): { dac?: DacRuntime; error?: string } {
  return dacRuntimeOf(startDac(process, userPath), process.memory);
}

