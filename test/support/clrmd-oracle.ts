// ClrMD as an independent oracle for managed state: test/targets/clrmd-oracle (C#, ClrMD 4.1 =
// Microsoft.Diagnostics.Runtime) reads a .NET core dump through the runtime's own DAC
// (libmscordaccore.so next to libcoreclr.so) and prints one JSON document. The app is built once
// (cached by source hash + SDK + runtimes, like every .NET test target) and each answer is cached
// as JSON beside the dump, keyed by what + args + the oracle build + the dump's size and mtime.
//
// Conventions of the documents: addresses are "0x..." hex strings; 64-bit integer field values are
// decimal strings; a failure on one item carries "error" (or "<key>Error" for one property) on
// that item. A top-level failure (dump not readable, no CLR, DAC not loadable) makes
// clrmdOracle() throw.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { buildDotnetTarget, dotnetEnv } from "./dotnet-fixtures.js";

/** Bumped when this file's way of running the oracle changes, to ignore older caches. */
const ORACLE_VERSION = 1;
const RUN_TIMEOUT_MS = 300_000;

/** "0x..." */
export type Hex = string;

export interface ClrmdException {
  address: Hex;
  type: string | null;
  methodTable: Hex | null;
  message: string | null;
  hresult: number;
  stackTrace: { ip: Hex; sp: Hex; method: string | null }[];
  inner: ClrmdException | null;
}

export interface ClrmdAppDomain {
  address: Hex | null;
  id?: number;
  name?: string | null;
  loaderAllocator?: Hex;
  moduleCount?: number;
}

export interface ClrmdRuntime {
  clrInfo: {
    /** ClrMD reads no version out of an ELF libcoreclr.so: "0.0" on Linux dumps. */
    version: string;
    flavor: "Core" | "Desktop" | "NativeAOT";
    isSingleFile: boolean;
    module: { fileName: string; imageBase: Hex; imageSize: number; kind: string; buildId: string; version: string | null };
    contractDescriptorAddress: Hex;
    debuggingLibraries: { kind: "Dac" | "Dbi" | "CDac"; fileName: string; platform: string; architecture: string; buildId: string }[];
  };
  clrCount: number;
  appDomains: ClrmdAppDomain[];
  systemDomain: ClrmdAppDomain;
  sharedDomain: ClrmdAppDomain;
  baseClassLibrary: { address: Hex; name: string } | null;
  threadCount: number;
  heap: {
    isServer: boolean;
    canWalkHeap: boolean;
    subHeapCount: number;
    segmentCount: number;
    stringMT: Hex;
    objectMT: Hex;
    freeMT: Hex;
    exceptionMT: Hex;
  };
  threadPool: Record<string, number | boolean> | null;
}

export interface ClrmdThread {
  address: Hex;
  managedThreadId: number;
  osThreadId: number;
  gcMode: "Cooperative" | "Preemptive";
  /** Raw Thread::m_State. */
  state: Hex;
  /** Names of the set bits of `state` (threads.h), e.g. "TS_Background", "TS_TPWorkerThread". */
  stateFlags: string[];
  isAlive: boolean;
  isFinalizer: boolean;
  isGc: boolean;
  isBackground: boolean;
  isThreadpoolWorker: boolean;
  isCompletionPort: boolean;
  isUnstarted: boolean;
  isDead: boolean;
  /** As ClrMD reads it; 4294967295 (-1) on .NET 10, which no longer counts locks per thread. */
  lockCount: number;
  stackBase: Hex;
  stackLimit: Hex;
  allocationContext: { start: Hex; end: Hex };
  appDomain: Hex | null;
  currentException: ClrmdException | null;
  error?: string;
}

export interface ClrmdMethod {
  methodDesc: Hex;
  name: string | null;
  /** e.g. "Hello.Program.SleepForever()", "System.Threading.Thread.Sleep(Int32)". */
  signature: string | null;
  type: string | null;
  typeMT: Hex | null;
  module: string | null;
  /** "0x06xxxxxx" */
  metadataToken: Hex;
  /** 0xffffffffffffffff when the method has no native code. */
  nativeCode: Hex;
  compilationType: "None" | "Jit" | "Ngen";
  /** IL offset of the frame's IP (negative: prolog -2 / epilog -3 / no mapping -1). */
  ilOffset?: number;
}

export interface ClrmdFrame {
  kind: "ManagedMethod" | "Runtime" | "Unknown";
  ip: Hex;
  sp: Hex;
  /** Explicit frame type for runtime frames, e.g. "InlinedCallFrame", "DebuggerU2MCatchHandlerFrame". */
  frameName: string | null;
  contextSize: number;
  /** The frame's register context (x64 targets). */
  context: { rip: Hex; rsp: Hex; rbp: Hex } | null;
  method: ClrmdMethod | null;
  /** ClrMD's ClrStackFrame.ToString(). */
  text: string;
  error?: string;
}

export interface ClrmdThreadStack {
  address: Hex;
  managedThreadId: number;
  osThreadId: number;
  frames: ClrmdFrame[];
  /** Set when the walk failed part-way (frames holds those before the failure). */
  error?: string;
}

export interface ClrmdModule {
  address: Hex;
  name: string | null;
  assemblyName: string | null;
  assemblyAddress: Hex;
  appDomain: Hex | null;
  imageBase: Hex;
  size: number;
  isDynamic: boolean;
  isPEFile: boolean;
  layout: "Unknown" | "Mapped" | "Flat" | "Loaded";
  metadataAddress: Hex;
  metadataLength: number;
  thunkHeap: Hex;
  loaderAllocator: Hex;
  debuggingMode: string;
  pdb: { path: string; guid: string; revision: number } | null;
  error?: string;
}

export interface ClrmdDataTargetModule {
  fileName: string;
  imageBase: Hex;
  imageSize: number;
  kind: "Elf" | "PortableExecutable" | "MachO" | "Other" | "Unknown";
  isManaged: boolean;
  buildId: string;
}

export interface ClrmdHeapStatEntry {
  methodTable: Hex;
  name: string | null;
  isFree: boolean;
  count: number;
  totalSize: number;
  /** The first object of this type met by the heap walk (handy for `objects`). */
  firstObject: Hex;
}

export interface ClrmdHeapStat {
  canWalkHeap: boolean;
  isServer: boolean;
  segments: {
    address: Hex;
    kind: string;
    start: Hex;
    end: Hex;
    committedStart: Hex;
    committedEnd: Hex;
    reservedEnd: Hex;
    subHeap: number;
  }[];
  /** Includes free objects (like `dumpheap -stat`, which lists "Free"). */
  totalObjects: number;
  totalSize: number;
  freeObjects: number;
  freeSize: number;
  objectsWithoutType: number;
  typeCount: number;
  /** Sorted by totalSize, then MethodTable, ascending (dumpheap -stat order). */
  stats: ClrmdHeapStatEntry[];
  walkError?: string;
}

export interface ClrmdField {
  name: string;
  type: string | null;
  elementType: string;
  /** ClrMD's offset: from the start of the object's data, after the MethodTable pointer. */
  offset: number;
  /** Offset from the object's address, as SOS's dumpobj prints it (reference types only). */
  objectOffset?: number | null;
  token: Hex;
}

export interface ClrmdTypeInfo {
  methodTable: Hex;
  name: string | null;
  /** MethodTable base size (ClrType.StaticSize). */
  baseSize: number;
  componentSize: number;
  /** Always null: ClrMD 4.x exposes no EEClass. */
  eeClass: null;
  parentMT: Hex | null;
  parentName: string | null;
  module: { address: Hex; name: string | null } | null;
  metadataToken: Hex;
  elementType: string;
  isValueType: boolean;
  isArray: boolean;
  isString: boolean;
  isFinalizable: boolean;
  containsPointers: boolean;
  componentType: string | null;
  interfaces: string[];
  fields: (ClrmdField & { size: number; isObjectReference: boolean; isValueType: boolean })[];
  staticFields: (ClrmdField & { address?: Hex; isInitialized?: boolean })[];
  threadStaticFields: string[];
  /** Every slot ClrMD lists: inherited virtuals (e.g. System.Object.ToString) included. */
  methods: {
    methodDesc: Hex;
    name: string | null;
    signature: string | null;
    metadataToken: Hex;
    nativeCode: Hex;
    compilationType: "None" | "Jit" | "Ngen";
    attributes: Hex;
    isConstructor: boolean;
    isClassConstructor: boolean;
  }[];
}

/** A field or array-element value: number/boolean, decimal string (64-bit), hex string (pointers),
 * a reference, or where an embedded struct lives. */
export type ClrmdValue =
  | number
  | boolean
  | string
  | { ref: Hex; type?: string | null; string?: string | null }
  | { valueTypeAddress: Hex }
  | null;

export interface ClrmdObject {
  query: string;
  address: Hex;
  valid: boolean;
  methodTable?: Hex;
  type?: string | null;
  size?: number;
  isFree?: boolean;
  module?: string | null;
  generation?: string | null;
  segment?: Hex | null;
  thinLock?: { threadOsId: number | null; threadAddress: Hex | null; recursion: number } | null;
  syncBlock?: {
    index: number;
    isMonitorHeld: boolean;
    holdingThread: Hex;
    recursionCount: number;
    waitingThreadCount: number;
  } | null;
  string?: string | null;
  array?: {
    length: number;
    rank: number;
    componentType: string | null;
    /** The first 16 elements: refs for reference types, address (+ value for primitives) otherwise. */
    elements: ({ ref: Hex; type: string | null } | { address: Hex; value?: ClrmdValue })[];
  };
  fields?: (ClrmdField & { value?: ClrmdValue; valueError?: string })[];
  error?: string;
}

export interface ClrmdResults {
  runtime: ClrmdRuntime;
  threads: { count: number; threads: ClrmdThread[] };
  stacks: { count: number; threads: ClrmdThreadStack[] };
  modules: { count: number; modules: ClrmdModule[]; dataTargetModules: ClrmdDataTargetModule[] };
  heapstat: ClrmdHeapStat;
  /** One entry per query (a type name or "0x<MethodTable>"); every module's match. */
  types: { types: { query: string; matches: ClrmdTypeInfo[]; error?: string }[] };
  objects: { objects: ClrmdObject[] };
}

export type ClrmdWhat = keyof ClrmdResults;

export interface ClrmdDoc<W extends ClrmdWhat = ClrmdWhat> {
  what: W;
  args: string[];
  dump: string;
  /** e.g. "4.1.745802+ec63d005..." */
  clrmdVersion: string;
  pointerSize: number;
  architecture: string;
  targetPlatform: string;
  processId: number;
  isMiniOrTriage?: boolean;
  isCreatedByDotNetRuntime?: boolean;
  /** The DAC ClrMD loaded (CLRMD_ORACLE_DAC overrides it). */
  dacPath: string | null;
  /** The DAC's "@(#)Version" string, e.g. "10.0.1226.42308 @Commit: 95017c7...". */
  dacFileVersion: string | null;
  /** Milliseconds to open the dump and create the runtime; elapsedMs is the whole run. */
  openMs: number;
  elapsedMs: number;
  result: ClrmdResults[W];
}

/** Builds test/targets/clrmd-oracle (cached) and returns its main assembly. */
export function buildClrmdOracle(): string {
  return buildDotnetTarget("clrmd-oracle");
}

/** Where clrmdOracle caches one answer (beside the dump). */
export function clrmdOracleCacheFile(dump: string, what: ClrmdWhat, args: string[] = []): string {
  const dll = buildClrmdOracle();
  const st = statSync(dump);
  const key = {
    version: ORACLE_VERSION,
    oracle: basename(dirname(dirname(dll))), // the build's content hash
    dump,
    size: st.size,
    mtimeMs: st.mtimeMs,
    what,
    args,
    dac: process.env.CLRMD_ORACLE_DAC ?? null,
  };
  const hash = createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 16);
  return join(dirname(dump), `${basename(dump)}.clrmd-${what}-${hash}.json`);
}

/**
 * ClrMD's answer for `what` on `dump` (extra args: type names or "0xMT" for "types", "0x..."
 * object addresses for "objects"). Cached beside the dump; throws on a top-level failure.
 */
export function clrmdOracle<W extends ClrmdWhat>(dump: string, what: W, ...args: string[]): ClrmdDoc<W> {
  const cacheFile = clrmdOracleCacheFile(dump, what, args);
  try {
    return JSON.parse(readFileSync(cacheFile, "utf8")) as ClrmdDoc<W>;
  } catch {
    // not cached yet
  }
  const dll = buildClrmdOracle();
  const r = spawnSync("dotnet", [dll, dump, what, ...args], {
    env: dotnetEnv(),
    encoding: "utf8",
    timeout: RUN_TIMEOUT_MS,
    maxBuffer: 512 << 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const cmd = `clrmd-oracle ${dump} ${what} ${args.join(" ")}`.trim();
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  let doc: ClrmdDoc<W> & { error?: string; errorDetail?: string };
  try {
    doc = JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`${cmd}: exit ${r.status ?? r.signal}, stdout is not JSON (${(e as Error).message}):\n` +
      `${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
  }
  if (r.status !== 0 || doc.error !== undefined) {
    throw new Error(`${cmd}: exit ${r.status ?? r.signal}: ${doc.error ?? ""}\n${doc.errorDetail ?? ""}\n${r.stderr.slice(0, 2000)}`);
  }
  try {
    // Via rename, so that a parallel reader never sees half a file.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, r.stdout);
    renameSync(tmp, cacheFile);
  } catch {
    // a read-only place: answer without caching
  }
  return doc;
}
