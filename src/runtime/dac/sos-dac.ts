// Typed calls on the DAC's ISOSDacInterface (dotnet/runtime src/coreclr/inc/sospriv.idl) with
// the request structs of its public header dacprivate.h (frozen since .NET Framework 4.5: "DAC
// datastructures are frozen ... Do NOT add fields"). Slot numbers follow the IDL's method order.
import { ClrscopeError, ExitCode } from "../../errors.js";
import { hex } from "../../hex.js";
import { ComPtr, E_NOINTERFACE, guidBytes, hresultText, succeeded, wcharText, type HRESULT } from "./com.js";
import type { Koffi } from "./koffi.js";
import { MAX_TIERED_VERSIONS } from "../../limits.js";

export const IID_ISOSDacInterface = guidBytes("436f00f2-b42a-4b9f-870c-e73db66ae930");
export const IID_ISOSDacInterface14 = guidBytes("9aa22aca-6dc6-4a0c-b4e0-70d2416b9837");
/** ISOSDacInterface5: GetTieredVersions (slot 3). */
export const IID_ISOSDacInterface5 = guidBytes("127d6abe-6c86-4e48-8e7b-220781c58101");
/** ISOSDacInterface7: GetPendingReJITID (slot 3), GetReJITInformation (slot 4), ... */
export const IID_ISOSDacInterface7 = guidBytes("c1020dde-fe98-4536-a53b-f35a74c327eb");
const SOS5_GET_TIERED_VERSIONS = 3;
const SOS7_GET_REJIT_INFORMATION = 4;

/** DacpTieredVersionData::OptimizationTier in enum order (dacprivate.h), with SOS's names. */
export const DAC_OPTIMIZATION_TIERS = [
  "Unknown Tier", "MinOptJitted", "Optimized", "QuickJitted", "OptimizedTier1", "ReadyToRun", "OptimizedTier1OSR",
  "QuickJitted + Instrumented", "OptimizedTier1 + Instrumented",
] as const;

/** One native code version as ISOSDacInterface5::GetTieredVersions reports it (DacpTieredVersionData). */
export interface DacTieredVersion {
  NativeCodeAddr: number;
  OptimizationTier: number;
  NativeCodeVersionNodePtr: number;
}

/** ISOSDacInterface7::GetReJITInformation (DacpReJitData2): the IL code version of a rejit id. */
export interface DacReJitData2 {
  rejitID: number;
  /** DacpReJitData2::Flags: 0 unknown, 1 requested, 2 active, 3 reverted. */
  flags: number;
  il: number;
  ilCodeVersionNodePtr: number;
}
export const IID_ISOSDacInterface2 = guidBytes("a16026ec-96f4-40ba-87fb-5575986fb7af");
export const IID_ISOSDacInterface15 = guidBytes("7ed81261-52a9-4a23-a358-c3313dea30a8");
export const IID_ISOSDacInterface8 = guidBytes("c12f35a9-e55c-4520-a894-b3dc5165dfce");

/** ISOSDacInterface methods in vtable order, after IUnknown's three (sospriv.idl). */
const SOS_METHODS = [
  "GetThreadStoreData", "GetAppDomainStoreData", "GetAppDomainList", "GetAppDomainData", "GetAppDomainName",
  "GetDomainFromContext", "GetAssemblyList", "GetAssemblyData", "GetAssemblyName", "GetModule", "GetModuleData",
  "TraverseModuleMap", "GetAssemblyModuleList", "GetILForModule", "GetThreadData", "GetThreadFromThinlockID",
  "GetStackLimits", "GetMethodDescData", "GetMethodDescPtrFromIP", "GetMethodDescName", "GetMethodDescPtrFromFrame",
  "GetMethodDescFromToken", "GetMethodDescTransparencyData", "GetCodeHeaderData", "GetJitManagerList",
  "GetJitHelperFunctionName", "GetJumpThunkTarget", "GetThreadpoolData", "GetWorkRequestData", "GetHillClimbingLogEntry",
  "GetObjectData", "GetObjectStringData", "GetObjectClassName", "GetMethodTableName", "GetMethodTableData",
  "GetMethodTableSlot", "GetMethodTableFieldData", "GetMethodTableTransparencyData", "GetMethodTableForEEClass",
  "GetFieldDescData", "GetFrameName", "GetPEFileBase", "GetPEFileName", "GetGCHeapData", "GetGCHeapList", "GetGCHeapDetails",
  "GetGCHeapStaticData", "GetHeapSegmentData", "GetOOMData", "GetOOMStaticData", "GetHeapAnalyzeData", "GetHeapAnalyzeStaticData",
  "GetDomainLocalModuleData", "GetDomainLocalModuleDataFromAppDomain", "GetDomainLocalModuleDataFromModule",
  "GetThreadLocalModuleData",
] as const;
type SosMethod = (typeof SOS_METHODS)[number];
const slot = (m: SosMethod) => 3 + SOS_METHODS.indexOf(m);

/** ISOSDacInterface14 (.NET 9+): GetStaticBaseAddress, GetThreadStaticBaseAddress, GetMethodTableInitializationFlags. */
const SOS14_GET_STATIC_BASE_ADDRESS = 3;
const SOS14_GET_THREAD_STATIC_BASE_ADDRESS = 4;

/** ISOSDacInterface2::GetObjectExceptionData, ISOSDacInterface15::GetMethodTableSlotEnumerator (after IUnknown). */
const SOS2_GET_OBJECT_EXCEPTION_DATA = 3;
const SOS15_GET_METHOD_TABLE_SLOT_ENUMERATOR = 3;
/** ISOSDacInterface8::GetAssemblyLoadContext: after IUnknown and five generation-table methods (sospriv.idl). */
const SOS8_GET_ASSEMBLY_LOAD_CONTEXT = 8;
/** ISOSMethodEnum: IUnknown, ISOSEnum (Skip, Reset, GetCount), then Next. */
const SOS_METHOD_ENUM_NEXT = 6;
const IUNKNOWN_RELEASE = 2;
/** JITTypes of DacpCodeHeaderData. */
export const DAC_JIT_TYPES = ["unknown", "jit", "prejit", "interpreter"] as const;

/** A DAC call that failed: which call, on what, and the HRESULT. */
export class DacCallError extends ClrscopeError {
  constructor(
    readonly call: string,
    readonly hr: HRESULT,
    what: string,
  ) {
    super("dac-call-failed", `the DAC's ${call}(${what}) failed with HRESULT ${hresultText(hr)}`, ExitCode.commandFailed);
  }
}

export interface DacModuleData {
  Address: number;
  /** The module's PEAssembly (GetPEFileName names its file). */
  PEAssembly: number;
  /** Load address of the module's PE image (0 for dynamic modules). */
  ilBase: number;
  metadataStart: number;
  metadataSize: number;
  Assembly: number;
  bIsReflection: number;
  bIsPEFile: number;
  dwTransientFlags: number;
  TypeDefToMethodTableMap: number;
  TypeRefToMethodTableMap: number;
  /** Before .NET 9: the module's index in each thread's ThreadLocalModule table. */
  dwModuleIndex: number;
  MethodDefToDescMap: number;
  FieldDefToDescMap: number;
  MemberRefToDescMap: number;
  ManifestModuleReferencesMap: number;
  LoaderAllocator: number;
}

export interface DacThreadStoreData {
  threadCount: number;
  unstartedThreadCount: number;
  backgroundThreadCount: number;
  pendingThreadCount: number;
  deadThreadCount: number;
  firstThread: number;
  finalizerThread: number;
  gcThread: number;
}

export interface DacThreadData {
  corThreadId: number;
  osThreadId: number;
  state: number;
  preemptiveGCDisabled: number;
  allocContextPtr: number;
  allocContextLimit: number;
  domain: number;
  pFrame: number;
  firstNestedException: number;
  lockCount: number;
  lastThrownObjectHandle: number;
  nextThread: number;
}

export interface DacMethodTableData {
  bIsFree: number;
  Module: number;
  Class: number;
  ParentMethodTable: number;
  wNumInterfaces: number;
  wNumMethods: number;
  wNumVtableSlots: number;
  wNumVirtuals: number;
  BaseSize: number;
  ComponentSize: number;
  cl: number;
  dwAttrClass: number;
  bIsDynamic: number;
  bContainsPointers: number;
}

export interface DacMethodTableFieldData {
  wNumInstanceFields: number;
  wNumStaticFields: number;
  wNumThreadStaticFields: number;
  FirstField: number;
}

export interface DacFieldDescData {
  /** CorElementType of the field as the runtime stores it. */
  Type: number;
  /** CorElementType from the field's signature (e.g. STRING where Type says CLASS). */
  sigType: number;
  MTOfType: number;
  ModuleOfType: number;
  TokenOfType: number;
  /** FieldDef token. */
  mb: number;
  MTOfEnclosingClass: number;
  dwOffset: number;
  bIsThreadLocal: number;
  bIsContextLocal: number;
  bIsStatic: number;
  NextField: number;
}

export interface DacMethodDescData {
  bHasNativeCode: number;
  bIsDynamic: number;
  wSlotNumber: number;
  NativeCodeAddr: number;
  MethodDescPtr: number;
  MethodTablePtr: number;
  ModulePtr: number;
  MDToken: number;
  /** A DynamicMethod's (LCG) managed System.Reflection.Emit.DynamicMethod object; 0 for other MethodDescs. */
  managedDynamicMethodObject: number;
  /** The active IL code version's rejit data (DacpReJitData). */
  rejitDataCurrent: { rejitID: number; flags: number; NativeCodeAddr: number };
}

export interface DacObjectData {
  MethodTable: number;
  /** DacpObjectType: 0 string, 1 free, 2 object, 3 array, 4 other. */
  ObjectType: number;
  Size: number;
  ElementTypeHandle: number;
  ElementType: number;
  dwRank: number;
  dwNumComponents: number;
  dwComponentSize: number;
  ArrayDataPtr: number;
}

export interface DacCodeHeaderData {
  /** DAC_JIT_TYPES index: 1 JIT'd, 2 precompiled (ReadyToRun). */
  JITType: number;
  MethodDescPtr: number;
  MethodStart: number;
  MethodSize: number;
  ColdRegionStart: number;
  ColdRegionSize: number;
  HotRegionSize: number;
}

export interface DacAppDomainData {
  AppDomainPtr: number;
  pLowFrequencyHeap: number;
  pHighFrequencyHeap: number;
  pStubHeap: number;
  dwId: number;
  AssemblyCount: number;
  /** DacpAppDomainDataStage (3: STAGE_OPEN). */
  appDomainStage: number;
}

export interface DacAssemblyData {
  AssemblyPtr: number;
  isDynamic: number;
  ModuleCount: number;
}

export interface DacExceptionObjectData {
  Message: number;
  InnerException: number;
  StackTrace: number;
  StackTraceString: number;
  RemoteStackTraceString: number;
  HResult: number;
}

/** One row of ISOSDacInterface15's slot enumerator (SOSMethodData). */
export interface DacMethodSlot {
  MethodDesc: number;
  Entrypoint: number;
  DefiningMethodTable: number;
  DefiningModule: number;
  Token: number;
  Slot: number;
}

/** sizeof of each request struct, from dacprivate.h's static_asserts ("Dacp structs cannot be modified"). */
export const DACP_STRUCT_SIZES = {
  Module: 0xa0, DomainLocalModule: 0x30, ThreadLocalModule: 0x30, ThreadStore: 0x38, Thread: 0x68, MethodTable: 0x48, MethodTableField: 0x18, FieldDesc: 0x40, MethodDesc: 0x98, Object: 0x60,
  AppDomainStore: 0x18, AppDomain: 0x48, Assembly: 0x40, CodeHeader: 0x38, ExceptionObject: 0x38,
} as const;

/** The request structs as koffi types (natural C layout, as the DAC is built on x64 Linux). */
export function structs(k: Koffi) {
  const A = "uint64_t"; // CLRDATA_ADDRESS
  const ReJit = k.struct({ rejitID: A, flags: "int32_t", NativeCodeAddr: A });
  return {
    Module: k.struct({
      Address: A, PEAssembly: A, ilBase: A, metadataStart: A, metadataSize: "uint64_t", Assembly: A, bIsReflection: "int32_t",
      bIsPEFile: "int32_t", dwBaseClassIndex: "uint64_t", dwModuleID: "uint64_t", dwTransientFlags: "uint32_t",
      TypeDefToMethodTableMap: A, TypeRefToMethodTableMap: A, MethodDefToDescMap: A, FieldDefToDescMap: A, MemberRefToDescMap: A,
      FileReferencesMap: A, ManifestModuleReferencesMap: A, LoaderAllocator: A, ThunkHeap: A, dwModuleIndex: "uint64_t",
    }),
    DomainLocalModule: k.struct({
      appDomainAddr: A, ModuleID: "uint64_t", pClassData: A, pDynamicClassTable: A, pGCStaticDataStart: A, pNonGCStaticDataStart: A,
    }),
    ThreadLocalModule: k.struct({
      threadAddr: A, ModuleIndex: "uint64_t", pClassData: A, pDynamicClassTable: A, pGCStaticDataStart: A, pNonGCStaticDataStart: A,
    }),
    ThreadStore: k.struct({
      threadCount: "int32_t", unstartedThreadCount: "int32_t", backgroundThreadCount: "int32_t", pendingThreadCount: "int32_t",
      deadThreadCount: "int32_t", firstThread: A, finalizerThread: A, gcThread: A, fHostConfig: "uint32_t",
    }),
    Thread: k.struct({
      corThreadId: "uint32_t", osThreadId: "uint32_t", state: "int32_t", preemptiveGCDisabled: "uint32_t",
      allocContextPtr: A, allocContextLimit: A, context: A, domain: A, pFrame: A, lockCount: "uint32_t",
      firstNestedException: A, teb: A, fiberData: A, lastThrownObjectHandle: A, nextThread: A,
    }),
    MethodTable: k.struct({
      bIsFree: "int32_t", Module: A, Class: A, ParentMethodTable: A, wNumInterfaces: "uint16_t", wNumMethods: "uint16_t",
      wNumVtableSlots: "uint16_t", wNumVirtuals: "uint16_t", BaseSize: "uint32_t", ComponentSize: "uint32_t", cl: "uint32_t",
      dwAttrClass: "uint32_t", bIsShared: "int32_t", bIsDynamic: "int32_t", bContainsPointers: "int32_t",
    }),
    MethodTableField: k.struct({
      wNumInstanceFields: "uint16_t", wNumStaticFields: "uint16_t", wNumThreadStaticFields: "uint16_t", FirstField: A,
      wContextStaticOffset: "uint16_t", wContextStaticsSize: "uint16_t",
    }),
    FieldDesc: k.struct({
      Type: "int32_t", sigType: "int32_t", MTOfType: A, ModuleOfType: A, TokenOfType: "uint32_t", mb: "uint32_t",
      MTOfEnclosingClass: A, dwOffset: "uint32_t", bIsThreadLocal: "int32_t", bIsContextLocal: "int32_t", bIsStatic: "int32_t",
      NextField: A,
    }),
    MethodDesc: k.struct({
      bHasNativeCode: "int32_t", bIsDynamic: "int32_t", wSlotNumber: "uint16_t", NativeCodeAddr: A, AddressOfNativeCodeSlot: A,
      MethodDescPtr: A, MethodTablePtr: A, ModulePtr: A, MDToken: "uint32_t", GCInfo: A, GCStressCodeCopy: A,
      managedDynamicMethodObject: A, requestedIP: A, rejitDataCurrent: ReJit, rejitDataRequested: ReJit,
      cJittedRejitVersions: "uint32_t",
    }),
    TieredVersion: k.struct({ NativeCodeAddr: A, OptimizationTier: "int32_t", NativeCodeVersionNodePtr: A }),
    ReJit2: k.struct({ rejitID: "uint32_t", flags: "int32_t", il: A, ilCodeVersionNodePtr: A }),
    AppDomainStore: k.struct({ sharedDomain: A, systemDomain: A, DomainCount: "int32_t" }),
    AppDomain: k.struct({
      AppDomainPtr: A, AppSecDesc: A, pLowFrequencyHeap: A, pHighFrequencyHeap: A, pStubHeap: A, DomainLocalBlock: A,
      pDomainLocalModules: A, dwId: "uint32_t", AssemblyCount: "int32_t", FailedAssemblyCount: "int32_t", appDomainStage: "int32_t",
    }),
    Assembly: k.struct({
      AssemblyPtr: A, ClassLoader: A, ParentDomain: A, DomainPtr: A, AssemblySecDesc: A, isDynamic: "int32_t", ModuleCount: "uint32_t",
      LoadContext: "uint32_t", isDomainNeutral: "int32_t", dwLocationFlags: "uint32_t",
    }),
    CodeHeader: k.struct({
      GCInfo: A, JITType: "int32_t", MethodDescPtr: A, MethodStart: A, MethodSize: "uint32_t", ColdRegionStart: A,
      ColdRegionSize: "uint32_t", HotRegionSize: "uint32_t",
    }),
    ExceptionObject: k.struct({
      Message: A, InnerException: A, StackTrace: A, WatsonBuckets: A, StackTraceString: A, RemoteStackTraceString: A,
      HResult: "int32_t", XCode: "int32_t",
    }),
    MethodSlot: k.struct({ MethodDesc: A, Entrypoint: A, DefiningMethodTable: A, DefiningModule: A, Token: "uint32_t", Slot: "uint32_t" }),
    Object: k.struct({
      MethodTable: A, ObjectType: "int32_t", Size: "uint64_t", ElementTypeHandle: A, ElementType: "int32_t", dwRank: "uint32_t",
      dwNumComponents: "uint64_t", dwComponentSize: "uint64_t", ArrayDataPtr: A, ArrayBoundsPtr: A, ArrayLowerBoundsPtr: A,
      RCW: A, CCW: A,
    }),
  };
}

/** Struct members decoded by koffi: uint64 values past 2^53 come back as bigint; keep addresses as numbers. */
function numbers<T>(o: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(o)) if (typeof v === "bigint") o[k] = Number(v);
  return o as T;
}

/** Typed ISOSDacInterface. Every method throws DacCallError when the DAC says no. */
export class SosDac {
  private readonly s: ReturnType<typeof structs>;
  private sos14?: ComPtr | null;
  private sos5?: ComPtr | null;
  private sos7?: ComPtr | null;
  private sos2?: ComPtr | null;
  private sos15?: ComPtr | null;
  private sos8?: ComPtr | null;

  constructor(
    private readonly koffi: Koffi,
    private readonly sos: ComPtr,
  ) {
    this.s = structs(koffi);
  }

  /** A `HRESULT Method([CLRDATA_ADDRESS addr,] struct Dacp... *data)` call: the decoded struct. */
  private request<T>(method: SosMethod, type: unknown, address?: number): T {
    const buf = Buffer.alloc(this.koffi.sizeof(type as never));
    const hr =
      address === undefined
        ? this.sos.call(slot(method), `int ${method}(void *self, void *data)`, buf)
        : this.sos.call(slot(method), `int ${method}(void *self, uint64_t addr, void *data)`, BigInt(address), buf);
    if (!succeeded(hr)) throw new DacCallError(method, hr, address === undefined ? "" : hex(address));
    return numbers<T>(this.koffi.decode(buf, type as never) as Record<string, unknown>);
  }

  threadStoreData(): DacThreadStoreData {
    return this.request("GetThreadStoreData", this.s.ThreadStore);
  }

  threadData(thread: number): DacThreadData {
    return this.request("GetThreadData", this.s.Thread, thread);
  }

  methodTableData(mt: number): DacMethodTableData {
    return this.request("GetMethodTableData", this.s.MethodTable, mt);
  }

  methodTableFieldData(mt: number): DacMethodTableFieldData {
    return this.request("GetMethodTableFieldData", this.s.MethodTableField, mt);
  }

  fieldDescData(fieldDesc: number): DacFieldDescData {
    return this.request("GetFieldDescData", this.s.FieldDesc, fieldDesc);
  }

  moduleData(module: number): DacModuleData {
    return this.request("GetModuleData", this.s.Module, module);
  }

  peFileName(peAssembly: number): string {
    return this.text("GetPEFileName", peAssembly);
  }

  objectData(address: number): DacObjectData {
    return this.request("GetObjectData", this.s.Object, address);
  }

  /** GetMethodDescData; `requestedIP` (as SOS's ip2md passes it) selects the native code version holding that address. */
  methodDescData(md: number, requestedIP = 0): DacMethodDescData {
    const buf = Buffer.alloc(this.koffi.sizeof(this.s.MethodDesc));
    const hr = this.sos.call(
      slot("GetMethodDescData"),
      "int GetMethodDescData(void *self, uint64_t md, uint64_t ip, void *data, uint32_t cRejit, void *rejit, uint32_t *needed)",
      BigInt(md), BigInt(requestedIP), buf, 0, null, null,
    );
    if (!succeeded(hr)) throw new DacCallError("GetMethodDescData", hr, hex(md));
    const d = numbers<DacMethodDescData>(this.koffi.decode(buf, this.s.MethodDesc) as Record<string, unknown>);
    d.rejitDataCurrent = numbers(d.rejitDataCurrent as unknown as Record<string, unknown>);
    return d;
  }

  /**
   * ISOSDacInterface5::GetTieredVersions: the native code versions of a method's IL code version
   * `rejitId`, in the runtime's iteration order; undefined when this DAC has no such interface.
   */
  tieredVersions(md: number, rejitId: number): DacTieredVersion[] | undefined {
    if (this.sos5 === undefined) this.sos5 = this.sos.queryInterface(IID_ISOSDacInterface5).itf ?? null;
    if (!this.sos5) return undefined;
    const size = this.koffi.sizeof(this.s.TieredVersion);
    const buf = Buffer.alloc(size * MAX_TIERED_VERSIONS);
    const count = new Int32Array(1);
    const hr = this.sos5.call(SOS5_GET_TIERED_VERSIONS, "int GetTieredVersions(void *self, uint64_t md, int rejitId, void *data, int count, int *needed)", BigInt(md), rejitId, buf, MAX_TIERED_VERSIONS, count);
    if (!succeeded(hr)) throw new DacCallError("GetTieredVersions", hr, hex(md));
    const out: DacTieredVersion[] = [];
    for (let i = 0; i < Math.min(count[0]!, MAX_TIERED_VERSIONS); i++) {
      out.push(numbers<DacTieredVersion>(this.koffi.decode(buf.subarray(i * size, (i + 1) * size), this.s.TieredVersion) as Record<string, unknown>));
    }
    return out;
  }

  /** ISOSDacInterface7::GetReJITInformation; undefined when this DAC has no such interface. */
  reJitInformation(md: number, rejitId: number): DacReJitData2 | undefined {
    if (this.sos7 === undefined) this.sos7 = this.sos.queryInterface(IID_ISOSDacInterface7).itf ?? null;
    if (!this.sos7) return undefined;
    const buf = Buffer.alloc(this.koffi.sizeof(this.s.ReJit2));
    const hr = this.sos7.call(SOS7_GET_REJIT_INFORMATION, "int GetReJITInformation(void *self, uint64_t md, int rejitId, void *data)", BigInt(md), rejitId, buf);
    if (!succeeded(hr)) throw new DacCallError("GetReJITInformation", hr, hex(md));
    return numbers<DacReJitData2>(this.koffi.decode(buf, this.s.ReJit2) as Record<string, unknown>);
  }

  /** A call returning one address through its last parameter. */
  private address(method: SosMethod, proto: string, what: string, ...args: unknown[]): number {
    const out = new BigUint64Array(1);
    const hr = this.sos.call(slot(method), proto, ...args, out);
    if (hr !== 0) throw new DacCallError(method, hr, what);
    return Number(out[0]!);
  }

  /** GetILForModule: the address of the IL at `rva` in a module's loaded image (flat or mapped). */
  ilForModule(module: number, rva: number): number {
    return this.address("GetILForModule", "int GetILForModule(void *self, uint64_t module, uint32_t rva, void *il)", `${hex(module)}, rva ${hex(rva)}`, BigInt(module), rva);
  }

  /** GetMethodTableSlot: a slot's entry point (vtable slots, and the type's own methods' slots beyond). */
  methodTableSlot(mt: number, slotNumber: number): number {
    return this.address("GetMethodTableSlot", "int GetMethodTableSlot(void *self, uint64_t mt, uint32_t slot, void *value)", `${hex(mt)}, ${slotNumber}`, BigInt(mt), slotNumber);
  }

  /** GetMethodTableForEEClass: the canonical MethodTable of an EEClass. */
  methodTableForEEClass(eeClass: number): number {
    return this.address("GetMethodTableForEEClass", "int GetMethodTableForEEClass(void *self, uint64_t eeClass, void *mt)", hex(eeClass), BigInt(eeClass));
  }

  /** GetMethodDescFromToken: a TypeDef's MethodTable or a MethodDef's MethodDesc in a module (0: not loaded). */
  methodDescFromToken(module: number, token: number): number {
    return this.address("GetMethodDescFromToken", "int GetMethodDescFromToken(void *self, uint64_t module, uint32_t token, void *md)", `${hex(module)}, ${hex(token)}`, BigInt(module), token);
  }

  codeHeaderData(ip: number): DacCodeHeaderData {
    return this.request("GetCodeHeaderData", this.s.CodeHeader, ip);
  }

  appDomainStoreData(): { sharedDomain: number; systemDomain: number; DomainCount: number } {
    return this.request("GetAppDomainStoreData", this.s.AppDomainStore);
  }

  appDomainData(domain: number): DacAppDomainData {
    return this.request("GetAppDomainData", this.s.AppDomain, domain);
  }

  appDomainName(domain: number): string {
    return this.text("GetAppDomainName", domain);
  }

  /** GetAppDomainList: the AppDomains (not the System Domain), as many as GetAppDomainStoreData counts. */
  appDomainList(): number[] {
    const count = Math.min(Math.max(this.appDomainStoreData().DomainCount, 0), 1024);
    if (count === 0) return [];
    const values = new BigUint64Array(count);
    const needed = new Uint32Array(1);
    const hr = this.sos.call(slot("GetAppDomainList"), "int GetAppDomainList(void *self, uint32_t count, void *values, uint32_t *needed)", count, values, needed);
    if (!succeeded(hr)) throw new DacCallError("GetAppDomainList", hr, "");
    return Array.from(values, Number).filter((d) => d !== 0);
  }

  assemblyList(domain: number): number[] {
    return this.list("GetAssemblyList", "int GetAssemblyList(void *self, uint64_t domain, int32_t count, void *values, int32_t *needed)", hex(domain), BigInt(domain));
  }

  assemblyData(domain: number, assembly: number): DacAssemblyData {
    const buf = Buffer.alloc(this.koffi.sizeof(this.s.Assembly));
    const hr = this.sos.call(slot("GetAssemblyData"), "int GetAssemblyData(void *self, uint64_t domain, uint64_t assembly, void *data)", BigInt(domain), BigInt(assembly), buf);
    if (!succeeded(hr)) throw new DacCallError("GetAssemblyData", hr, hex(assembly));
    return numbers<DacAssemblyData>(this.koffi.decode(buf, this.s.Assembly) as Record<string, unknown>);
  }

  assemblyModuleList(assembly: number): number[] {
    return this.list("GetAssemblyModuleList", "int GetAssemblyModuleList(void *self, uint64_t assembly, uint32_t count, void *values, uint32_t *needed)", hex(assembly), BigInt(assembly));
  }

  /** A `(…, count, CLRDATA_ADDRESS values[], pNeeded)` list call: asks for the count, then the list. */
  private list(method: SosMethod, proto: string, what: string, ...args: unknown[]): number[] {
    const needed = new Int32Array(1);
    let hr = this.sos.call(slot(method), proto, ...args, 0, null, needed);
    if (!succeeded(hr)) throw new DacCallError(method, hr, what);
    const n = Math.min(Math.max(needed[0]!, 0), 1 << 20);
    if (n === 0) return [];
    const values = new BigUint64Array(n);
    hr = this.sos.call(slot(method), proto, ...args, n, values, needed);
    if (!succeeded(hr)) throw new DacCallError(method, hr, what);
    return Array.from(values.subarray(0, Math.min(n, needed[0]!)), Number);
  }

  /** ISOSDacInterface2::GetObjectExceptionData: System.Exception's fields of an exception object. */
  exceptionObjectData(address: number): DacExceptionObjectData {
    if (this.sos2 === undefined) this.sos2 = this.sos.queryInterface(IID_ISOSDacInterface2).itf ?? null;
    if (!this.sos2) throw new DacCallError("QueryInterface(ISOSDacInterface2)", E_NOINTERFACE, hex(address));
    const buf = Buffer.alloc(this.koffi.sizeof(this.s.ExceptionObject));
    const hr = this.sos2.call(SOS2_GET_OBJECT_EXCEPTION_DATA, "int GetObjectExceptionData(void *self, uint64_t obj, void *data)", BigInt(address), buf);
    if (!succeeded(hr)) throw new DacCallError("GetObjectExceptionData", hr, hex(address));
    return numbers<DacExceptionObjectData>(this.koffi.decode(buf, this.s.ExceptionObject) as Record<string, unknown>);
  }

  /**
   * ISOSDacInterface15::GetMethodTableSlotEnumerator (.NET 9+, where GetMethodTableData reports no
   * vtable slot counts): SOS's MethodDesc table of a type; undefined when this DAC lacks it.
   */
  methodTableSlots(mt: number): DacMethodSlot[] | undefined {
    if (this.sos15 === undefined) this.sos15 = this.sos.queryInterface(IID_ISOSDacInterface15).itf ?? null;
    if (!this.sos15) return undefined;
    const out = new BigUint64Array(1);
    const hr = this.sos15.call(SOS15_GET_METHOD_TABLE_SLOT_ENUMERATOR, "int GetMethodTableSlotEnumerator(void *self, uint64_t mt, void *e)", BigInt(mt), out);
    if (!succeeded(hr) || out[0]! === 0n) throw new DacCallError("GetMethodTableSlotEnumerator", hr, hex(mt));
    const e = new ComPtr(this.koffi, out[0]!);
    try {
      const rows: DacMethodSlot[] = [];
      const size = this.koffi.sizeof(this.s.MethodSlot);
      const batch = 64;
      const buf = Buffer.alloc(size * batch);
      const fetched = new Uint32Array(1);
      for (let guard = 0; guard < 1 << 12; guard++) {
        const r = e.call(SOS_METHOD_ENUM_NEXT, "int Next(void *self, uint32_t count, void *values, uint32_t *fetched)", batch, buf, fetched);
        if (!succeeded(r)) throw new DacCallError("ISOSMethodEnum::Next", r, hex(mt));
        const n = Math.min(fetched[0]!, batch);
        for (let i = 0; i < n; i++) rows.push(numbers<DacMethodSlot>(this.koffi.decode(buf, i * size, this.s.MethodSlot) as Record<string, unknown>));
        if (n < batch) break;
      }
      return rows;
    } finally {
      e.call(IUNKNOWN_RELEASE, "uint32_t Release(void *self)");
    }
  }

  /** A WCHAR-returning call (count, buffer, pNeeded): asks for the size, then the text. */
  private text(method: SosMethod, address: number): string {
    const proto = `int ${method}(void *self, uint64_t addr, uint32_t count, void *buffer, uint32_t *needed)`;
    const needed = new Uint32Array(1);
    // Some DACs (e.g. .NET 8's GetObjectStringData) set pNeeded but return E_INVALIDARG without a buffer.
    let hr = this.sos.call(slot(method), proto, BigInt(address), 0, null, needed);
    if (needed[0]! === 0) throw new DacCallError(method, hr, hex(address));
    const n = Math.min(needed[0]!, 1 << 20);
    const buf = Buffer.alloc(n * 2);
    hr = this.sos.call(slot(method), proto, BigInt(address), n, buf, needed);
    if (!succeeded(hr)) throw new DacCallError(method, hr, hex(address));
    return wcharText(buf);
  }

  methodTableName(mt: number): string {
    return this.text("GetMethodTableName", mt);
  }

  methodDescName(md: number): string {
    return this.text("GetMethodDescName", md);
  }

  /** GetMethodDescPtrFromIP: the MethodDesc of managed code or of a precode stub at `ip`, 0 when none. */
  methodDescFromIp(ip: number): number {
    const out = new BigUint64Array(1);
    const hr = this.sos.call(slot("GetMethodDescPtrFromIP"), "int GetMethodDescPtrFromIP(void *self, uint64_t ip, uint64_t *md)", BigInt(ip), out);
    return succeeded(hr) ? Number(out[0]!) : 0;
  }

  /** GetMethodDescPtrFromFrame: the method an explicit Frame stands for (an InlinedCallFrame's P/Invoke target), 0 when none. */
  methodDescFromFrame(frame: number): number {
    const out = new BigUint64Array(1);
    const hr = this.sos.call(slot("GetMethodDescPtrFromFrame"), "int GetMethodDescPtrFromFrame(void *self, uint64_t frame, uint64_t *md)", BigInt(frame), out);
    return succeeded(hr) ? Number(out[0]!) : 0;
  }

  /** GetFrameName: the class name of an explicit Frame, from its vtable (e.g. "InlinedCallFrame"). */
  frameName(vtable: number): string {
    return this.text("GetFrameName", vtable);
  }

  objectStringData(address: number): string {
    return this.text("GetObjectStringData", address);
  }

  /** GetDomainLocalModuleDataFromModule (runtimes before .NET 9): where a module's statics live, and its per-class flags. */
  domainLocalModuleData(module: number): { pClassData: number; pGCStaticDataStart: number; pNonGCStaticDataStart: number } {
    return this.request("GetDomainLocalModuleDataFromModule", this.s.DomainLocalModule, module);
  }

  /**
   * GetThreadLocalModuleData (runtimes before .NET 9): where one thread's thread statics of a
   * module live, and its per-class flags.
   */
  threadLocalModuleData(thread: number, moduleIndex: number): { pClassData: number; pGCStaticDataStart: number; pNonGCStaticDataStart: number } {
    const type = this.s.ThreadLocalModule;
    const buf = Buffer.alloc(this.koffi.sizeof(type as never));
    const method = "GetThreadLocalModuleData";
    const hr = this.sos.call(slot(method), `int ${method}(void *self, uint64_t thread, uint32_t index, void *data)`, BigInt(thread), moduleIndex, buf);
    if (!succeeded(hr)) throw new DacCallError(method, hr, `${hex(thread)}, ${moduleIndex}`);
    return numbers(this.koffi.decode(buf, type as never) as Record<string, unknown>);
  }

  /**
   * ISOSDacInterface14::GetStaticBaseAddress (.NET 9+): where a type's non-GC and GC statics
   * live; undefined when this DAC has no such interface.
   */
  staticBaseAddress(mt: number): { nonGC: number; gc: number } | undefined {
    if (this.sos14 === undefined) this.sos14 = this.sos.queryInterface(IID_ISOSDacInterface14).itf ?? null;
    if (!this.sos14) return undefined;
    const out = new BigUint64Array(2);
    const hr = this.sos14.call(SOS14_GET_STATIC_BASE_ADDRESS, "int GetStaticBaseAddress(void *self, uint64_t mt, void *nonGC, void *gc)", BigInt(mt), out.subarray(0, 1), out.subarray(1, 2));
    if (!succeeded(hr)) throw new DacCallError("GetStaticBaseAddress", hr, hex(mt));
    return { nonGC: Number(out[0]!), gc: Number(out[1]!) };
  }

  /**
   * ISOSDacInterface14::GetThreadStaticBaseAddress (.NET 9+): where one thread's non-GC and GC
   * thread statics of a type live (0 when not allocated on that thread); undefined when this DAC
   * has no such interface.
   */
  threadStaticBaseAddress(mt: number, thread: number): { nonGC: number; gc: number } | undefined {
    if (this.sos14 === undefined) this.sos14 = this.sos.queryInterface(IID_ISOSDacInterface14).itf ?? null;
    if (!this.sos14) return undefined;
    const out = new BigUint64Array(2);
    const hr = this.sos14.call(SOS14_GET_THREAD_STATIC_BASE_ADDRESS, "int GetThreadStaticBaseAddress(void *self, uint64_t mt, uint64_t thread, void *nonGC, void *gc)",
      BigInt(mt), BigInt(thread), out.subarray(0, 1), out.subarray(1, 2));
    if (!succeeded(hr)) throw new DacCallError("GetThreadStaticBaseAddress", hr, `${hex(mt)}, ${hex(thread)}`);
    return { nonGC: Number(out[0]!), gc: Number(out[1]!) };
  }

  /**
   * ISOSDacInterface8::GetAssemblyLoadContext: the managed AssemblyLoadContext object of a
   * MethodTable's module (0 while the runtime has not created it); undefined when this DAC lacks it.
   */
  assemblyLoadContext(mt: number): number | undefined {
    if (this.sos8 === undefined) this.sos8 = this.sos.queryInterface(IID_ISOSDacInterface8).itf ?? null;
    if (!this.sos8) return undefined;
    const out = new BigUint64Array(1);
    const hr = this.sos8.call(SOS8_GET_ASSEMBLY_LOAD_CONTEXT, "int GetAssemblyLoadContext(void *self, uint64_t mt, void *alc)", BigInt(mt), out);
    if (!succeeded(hr)) throw new DacCallError("GetAssemblyLoadContext", hr, hex(mt));
    return Number(out[0]!);
  }
}
