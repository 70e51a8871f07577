// The managed model's plain shapes: what either backend (the data contracts, the runtime's DAC)
// answers, in numbers (addresses are JS numbers; commands format them). Backends import these
// shapes to fill them; commands and analyses import them to read them. Nothing here reads a dump.
import type { MetadataReader } from "../metadata/metadata.js";

export interface ManagedThread {
  /** Address of the runtime's Thread object (SOS: ThreadOBJ). */
  address: number;
  managedId: number;
  /** OS thread id (0 for threads that have not started or have ended). */
  osId: number;
  state: number;
  /** Cooperative mode: the thread is running managed code and blocks a GC. */
  preemptiveGCDisabled: boolean;
  allocContext: { pointer: number; limit: number };
  /** Head of the explicit Frame chain. */
  frame: number;
  /** Handle of the last thrown exception object, 0 if none. */
  lastThrownObjectHandle: number;
  /** The exception tracker of an exception still being handled beneath the current one (ExceptionInfo.PreviousNestedInfo), 0 if none. */
  firstNestedException: number;
  isFinalizer: boolean;
  isGC: boolean;
}

export interface ThreadStoreCounts {
  threadCount: number;
  unstarted: number;
  background: number;
  pending: number;
  dead: number;
}


/** Which backend answered: the runtime's data contracts (pure TypeScript) or its DAC. */
export type BackendName = "contracts" | "dac";

/** How a session chooses its backends (`analyze --backend`): auto routes each question to the
 * contracts, then the DAC; `contracts` never starts nor asks the DAC; `dac` asks the DAC first. */
export type BackendChoice = "auto" | "contracts" | "dac";

/** A thread of the runtime's thread store, with the AppDomain it runs in. */
export type ManagedThreadInDomain = ManagedThread & { domain: number };

/** The thread store as clrthreads shows it. */
export interface ThreadStore {
  backend: BackendName;
  counts: ThreadStoreCounts;
  threads: ManagedThreadInDomain[];
  /** The type name of the object at an address (throws when it is not readable). */
  typeNameOf(object: number): string;
}

/** An object's header as the runtime describes it (GetObjectData's shape). */
export interface ManagedObject {
  address: number;
  methodTable: number;
  size: number;
  kind: "string" | "free" | "object" | "array" | "other";
  components: number;
  /** Arrays: rank, element type handle (a MethodTable, or a TypeDesc) and CorElementType. */
  rank: number;
  elementTypeHandle: number;
  elementType: number;
  /** Arrays: where the elements start. */
  arrayData: number;
}

/** A field value read from the dump: numbers as JS numbers, 64-bit integers as decimal strings. */
export type FieldValue =
  | { kind: "int"; value: number | string }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "char"; value: number }
  /** Native-sized integers and pointers, "0x..." (they need not be addresses). */
  | { kind: "pointer"; value: string }
  | { kind: "ref"; value: number }
  | { kind: "struct"; address: number; fields: ManagedField[] }
  /** A static whose type's statics are not allocated (class constructor not run). */
  | { kind: "unallocated" }
  /** A thread static: its value on each thread that has it allocated. */
  | { kind: "perThread"; values: { osThreadId: number; value: FieldValue }[] }
  /** `dynamicStatics`: a generic instantiation's static before .NET 9, which SOS cannot locate either ("dynamic statics NYI"). */
  | { kind: "unavailable"; reason: string; dynamicStatics?: boolean };

/** One field of an object or type, as SOS's DisplayFields lists it. */
export interface ManagedField {
  /** MethodTable that declares the field (SOS prints the parents' fields first). */
  declaringMethodTable: number;
  fieldDesc: number;
  /** FieldDef token (0x04xxxxxx). */
  token: number;
  /** Module whose metadata holds `token`. */
  module: number;
  /** CorElementType as the runtime stores the field (CLASS for strings). */
  elementType: number;
  /** CorElementType from the field's signature (STRING for strings). */
  sigElementType: number;
  /** The field type's MethodTable (0 when the type is not loaded). */
  typeMethodTable: number;
  /** TypeDef token of the field's type, for classes whose MethodTable is not loaded. */
  typeToken: number;
  /** SOS's Offset column: from the object's address (fields follow the MethodTable pointer), or from the struct's start. */
  offset: number;
  isStatic: boolean;
  isThreadStatic: boolean;
  /** Where the value lives (0 when unknown: statics of uninitialized types, thread statics). */
  address: number;
  value: FieldValue;
}

/** The fields of an object, or why they cannot be listed. */
export type FieldsAnswer =
  | {
      fields: ManagedField[];
      /** Where the walk stopped early, when it did (SOS: "Unable to display fields"). */
      failure?: string;
      backend: BackendName;
      /** Who answered ("the DAC /path/libmscordaccore.so"). */
      from: string;
      /** SOS's name of a field's or declaring type, by the backend that listed the fields; throws ClrscopeError when it has none. */
      typeName(methodTable: number): string;
    }
  | { error: string };

/**
 * Objects as dumpobj and printexception read them when the contracts cannot (a runtime without a
 * descriptor): the object's header, its type, module, fields, strings and exception fields.
 */
export interface ObjectReader {
  backend: BackendName;
  /** Where the answers come from (the DAC's file). */
  from: string;
  /** The object at `address`; CommandError(not-an-object) when it is none. */
  object(address: number): ManagedObject;
  methodTable(address: number): { eeClass: number; module: number };
  typeName(methodTable: number): string;
  modulePath(module: number): string;
  moduleMetadata(module: number): MetadataReader | undefined;
  stringValue(address: number, maxChars: number): string;
  /** An object's fields (SOS DisplayFields), and where the walk stopped early (`failure`). */
  fieldList(methodTable: number, address: number): { fields: ManagedField[]; failure?: string };
  /** Bytes of the dump's memory (undefined where the dump lacks them). */
  tryRead(address: number, length: number): Uint8Array | undefined;
}

/** System.Exception's fields of an exception object, addresses (0: null) and the HResult. */
export interface ExceptionObjectFields {
  message: number;
  innerException: number;
  stackTrace: number;
  stackTraceString: number;
  remoteStackTraceString: number;
  hResult: number;
}

/** A frame of an exception's stack trace (its `_stackTrace` decoded). */
export interface ExceptionStackFrame {
  /** null where the runtime does not publish it (the .NET 11 descriptor's StackTraceElement has no SP). */
  sp: number | null;
  ip: number;
  methodDesc: number;
  /** File name of the method's module ("" when unknown). */
  moduleFileName: string;
  /** The method's name with parameter types. */
  method: string;
  /** `ip` from the start of its code, null when the code is not known. */
  offset: number | null;
}

/** What printexception reads, from whichever backend answers. */
export interface ExceptionSource {
  backend: BackendName;
  threads(): { osId: number; lastThrownObjectHandle: number }[];
  /** Throws CommandError when `address` is not an object; the type name of an object otherwise. */
  typeName(address: number): string;
  /** System.Exception's fields, or undefined when the object is not an exception. */
  exception(address: number): ExceptionObjectFields | undefined;
  stringValue(address: number): string;
  /** The decoded frames of `_stackTrace`, innermost first, or undefined when this backend cannot decode them. */
  stackFrames(stackTrace: number): ExceptionStackFrame[] | undefined;
}

/** A managed module of the AppDomain, in load order (modules / lm). */
export interface ManagedModuleSummary {
  /** Position in the AppDomain's assembly list (load order). */
  index: number;
  address: number;
  assembly: number;
  path: string;
  fileName: string;
  imageBase: number;
  /** Bytes of the loaded image layout (the file size when flat, SizeOfImage when mapped). */
  imageSize: number;
  /** The image lies flat (file layout) rather than section by section. Null without an image. */
  isFileLayout: boolean | null;
  isDynamic: boolean;
  metadata: { address: number; size: number } | null;
}

/** An assembly of an AppDomain with its modules (dumpdomain). */
export interface DomainAssemblySummary {
  address: number;
  /** Path of the assembly's manifest module ("" for dynamic assemblies). */
  name: string;
  isDynamic: boolean;
  modules: { address: number; name: string }[];
}

/** The System Domain or an AppDomain (dumpdomain). */
export interface DomainSummary {
  kind: "system" | "app";
  address: number;
  /** AppDomain id (DefaultADID); absent for the System Domain. */
  id?: number;
  lowFrequencyHeap: number;
  highFrequencyHeap: number;
  stubHeap: number;
  stage: string;
  /** Friendly name; "" prints as None. */
  name: string;
  assemblies: DomainAssemblySummary[];
}

/** A loaded type of a module's TypeDef or TypeRef map (dumpmodule -mt). */
export interface ModuleTypeEntry {
  methodTable: number;
  token: number;
  name: string;
}

/** A Module's details (dumpmodule). */
export interface ModuleDetails {
  address: number;
  name: string;
  attributes: string[];
  assembly: number;
  peAssembly: number;
  baseAddress: number;
  /** Module::m_loaderAllocator (SOS's "LoaderHeap" line). */
  loaderAllocator: number;
  typeDefToMethodTableMap: number;
  typeRefToMethodTableMap: number;
  methodDefToDescMap: number;
  fieldDefToDescMap: number;
  memberRefToDescMap: number;
  /** Not kept by this runtime: always 0. */
  fileReferencesMap: number;
  assemblyReferencesMap: number;
  flags: number;
  readyToRunInfo: number;
  metadata: { address: number; size: number } | null;
  typeDefs?: ModuleTypeEntry[];
  typeRefs?: ModuleTypeEntry[];
  /** Fields this backend does not know (shown as 0). */
  unavailable?: string[];
}

/** Where a value of a stack frame lives: a stack address, or a register. */
export type ValueLocation = { kind: "register" } | { kind: "memory"; address: number };

/** A parameter or local of a managed frame. */
export interface FrameValue {
  /** Name the backend gives (parameters: from metadata; locals: none). */
  name: string;
  /** The single location, when the value has exactly one (as SOS prints it). */
  location?: ValueLocation;
  /** The value's bytes, undefined when there are none (`<no data>`: not live here, optimized away). */
  bytes?: Uint8Array;
  /** CLRDataValueFlag bits. */
  flags: number;
}

/** A frame of a detailed stack walk (the DAC's): managed frames with values and IL offsets, and explicit Frames. */
export interface WalkedFrame {
  sp: number;
  ip: number;
  /** The explicit runtime Frame's address (0 for a managed method's frame). */
  frameAddress: number;
  /** CLRDataSimpleFrameType. */
  simpleType: number;
  args?: FrameValue[];
  locals?: FrameValue[];
  /** IL offsets of `ip` (managed frames, when asked for); negative values are CLRDATA_IL_OFFSET markers. */
  ilOffsets?: number[];
  /** `ip - 1` mapped instead (SOS does so for all but the leaf frame, whose IP is a return address). */
  ilOffsetsBeforeIp?: number[];
  /** MethodDef token of the frame's method (managed frames). */
  methodToken?: number;
  /** The managed frame's MethodDesc, 0 for explicit Frames. */
  methodDesc: number;
  /** The explicit Frame's class name, "" for managed frames. */
  frameName: string;
}

export interface WalkOptions {
  args?: boolean;
  locals?: boolean;
  ilOffsets?: boolean;
}

/** A module as source lines need it: its image's load address and path. */
export interface ModuleImageRef {
  /** Load address of the module's PE image (0: dynamic, no image). */
  base: number;
  path: string;
}

/**
 * A stack walker that also gives parameters, locals and IL offsets (the DAC's, as SOS's ClrStack
 * asks it), and the names and modules of what it finds.
 */
export interface DetailedStackWalker {
  backend: BackendName;
  threads(): ManagedThread[];
  /** Innermost first; undefined when the thread is not managed. */
  stackWalk(osThreadId: number, options: WalkOptions): WalkedFrame[] | undefined;
  /** The method's name with parameter types (GetMethodDescName). */
  methodName(methodDesc: number): string;
  /** The method an explicit Frame stands for (0: none). */
  frameMethodDesc(frameAddress: number): number;
  /** The module of a method, for source lines (undefined when unknown). */
  methodModule(methodDesc: number): ModuleImageRef | undefined;
  /**
   * Many threads' walks at once, each as stackWalk gives it or the error it threw (a DAC host
   * answers them in one round trip); throws when the walker itself fails (a host that dies).
   */
  stackWalks?(osThreadIds: number[], options: WalkOptions): ({ frames: WalkedFrame[] | undefined } | { error: Error })[];
  /**
   * Asks at once what methodName (when `names`), frameMethodDesc and methodModule will be asked for
   * these Frames and methods, so that those calls then cost no round trip each.
   */
  prepare?(frameAddresses: number[], methodDescs: number[], names: boolean): void;
}

/** Facts about the DAC backend of a session (runtime -v). */
export interface DacBackendInfo {
  /** Whether the DAC loaded and accepted the dump. */
  active: boolean;
  /** The libmscordaccore.so loaded (in the DAC host process). */
  path?: string;
  /** Why that file may be loaded: named by --dac, or found by the dump's libcoreclr build-id (where). */
  source?: string;
  /** Milliseconds from the build check to a usable ISOSDacInterface. */
  initMs?: number;
  /** The runtime build the DAC serves ("10.0.1226.42308 @Commit: ..."). */
  version?: string;
  /** Why the DAC backend is not active. */
  error?: string;
}

/** What a token of a DynamicMethod's IL stands for, read from its scope's token table (SOS DisassembleToken). */
export type DynamicTokenTarget =
  /** MethodDef tokens: a RuntimeMethodHandle whose method info holds the MethodDesc. */
  | { kind: "method"; methodDesc: number; name: string }
  /** TypeDef tokens: a RuntimeTypeHandle whose RuntimeType holds the MethodTable. */
  | { kind: "type"; methodTable: number; name: string }
  /** String tokens: the string's text (at most MAX_DYNAMIC_IL_STRING_CHARS). */
  | { kind: "string"; value: string }
  /** Field, MemberRef, TypeRef and signature tokens: the table's object, as SOS shows them (0 when outside the table). */
  | { kind: "object"; address: number }
  /** A token of another table, or one whose objects could not be read. */
  | { kind: "unknown"; reason?: string };

/** A DynamicMethod's IL as the runtime holds it: in managed objects, not in an image (SOS GatherDynamicInfo). */
export interface DynamicMethodIl {
  /** The System.Reflection.Emit.DynamicMethod object. */
  dynamicMethod: number;
  /** Its DynamicResolver, which holds the code and the scope. */
  resolver: number;
  /** The IL bytes (the resolver's `m_code`, no header). */
  code: Uint8Array;
  /** The scope's token table (`m_scope.m_tokens._items`, an object[]). */
  tokenArray: number;
  /** Each token the IL uses, with what it stands for. */
  tokens: { token: number; target: DynamicTokenTarget }[];
  backend: BackendName;
}
