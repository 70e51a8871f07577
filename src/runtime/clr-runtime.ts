import type { ManagedField, ManagedThread, ThreadStoreCounts } from "./model.js";
import type { ManagedFunction } from "../native/windows-unwind.js";
import type { MethodCodeVersions } from "./contracts/code-versions.js";
import type { CodeBlock } from "./contracts/execution-manager.js";
import type { NativeVar } from "./contracts/debug-info.js";
import type { MetadataReader } from "../metadata/metadata.js";
import type { ExplicitFrame } from "./contracts/frames.js";
import type { Loader } from "./contracts/loader.js";
import type { ExceptionField, ObjectContract } from "./contracts/object.js";
import type { MethodDescInfo, MethodTableInfo, ModuleInfo } from "./contracts/runtime-type-system.js";
import type { RuntimeTypeNames, RuntimeTypeSystemDetails } from "./contracts/runtime-type-system.js";

export type { ManagedThread, ThreadStoreCounts };
export type { CodeBlock, ExceptionField, ExplicitFrame, MethodDescInfo, MethodTableInfo, ModuleInfo };
export type { ILCodeVersion, MethodCodeVersions, NativeCodeVersion, OptimizationTier } from "./contracts/code-versions.js";

// The managed view of a dumped process: one interface for commands, implemented by the
// contracts backend (pure TypeScript, driven by the runtime's descriptor). The DAC backend
// (dac/dac-runtime.ts) has its own shapes; the type commands reach either through sos/type-source.ts.

/** Thread state bits (Thread contract, ThreadState enum). */
export const ThreadStateFlags = {
  Background: 0x200,
  Unstarted: 0x400,
  Dead: 0x800,
  ThreadPoolWorker: 0x01000000,
} as const;

export interface RuntimeDescription {
  backend: "contracts";
  version?: string;
  libcoreclr: string;
  descriptorAddress: number;
  contracts: { name: string; version: number | string }[];
  types: { name: string; size?: number; fields: { name: string; offset: number; type?: string }[] }[];
  globals: { name: string; value?: string; string?: string; type?: string; indirect: boolean }[];
}

export interface ClrRuntime {
  describe(): RuntimeDescription;
  /** The managed code block holding `ip` (JIT'd or ReadyToRun), if any. */
  codeBlock(ip: number): CodeBlock | undefined;
  /** Windows-format unwind data of the managed code at `ip`. */
  unwindInfo(ip: number): ManagedFunction | undefined;
  methodDesc(address: number): MethodDescInfo;
  /** The explicit Frames pushed on a thread's stack, innermost first. */
  explicitFrames(thread: ManagedThread): ExplicitFrame[];
  methodTable(address: number): MethodTableInfo;
  module(address: number): ModuleInfo;
  appDomain(): number;
  threadStoreCounts(): ThreadStoreCounts;
  threads(): ManagedThread[];
  /** The Loader contract: assemblies, modules, lookup maps, images (contracts/loader.ts). */
  loader(): Loader;
  /** RuntimeTypeSystem details for dumpmt/dumpmd/name2ee: flags, EEClass, MethodDesc chunks, slots. */
  typeSystemDetails(): RuntimeTypeSystemDetails;
  /** Type handles (classes, instantiations, arrays, TypeDescs) and method instantiations, for names. */
  typeNames(): RuntimeTypeNames;
  /** The Object contract: MethodTable of an object, sizes, strings, arrays, Exception fields (contracts/object.ts). */
  objects(): ObjectContract;
  /** The CodeVersions contract: a method's IL and native code versions, which are active, their code and IL (contracts/code-versions.ts). */
  codeVersions(methodDesc: number): MethodCodeVersions;
  /**
   * The IL offsets the JIT mapped the code at `ip` to (the DebugInfo contract, .NET 11), as the
   * DAC's GetILOffsetsByAddress gives them; undefined where this runtime does not publish the
   * contract or the code has no debug info (IL stubs, ReadyToRun code).
   */
  ilOffsetsAt?(ip: number): number[] | undefined;
  /**
   * The IL arguments and locals live at `ip` and where the JIT keeps them (the DebugInfo
   * contract's variable table, .NET 11); undefined as for ilOffsetsAt.
   */
  nativeVarsAt?(ip: number): NativeVar[] | undefined;
  /**
   * Every field of the object at `address` (its parents' first), read from the runtime's FieldDescs
   * (.NET 11 publishes their layout); undefined where this runtime does not publish them.
   * `metadata` gives a module's metadata (field signatures, CoreLib's primitive types).
   */
  fields?(methodTable: number, address: number, metadata: (module: number) => MetadataReader | undefined): ManagedField[] | undefined;
}
