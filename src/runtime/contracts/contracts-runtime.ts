// The contracts backend of ClrRuntime: everything is read through the runtime's own data
// descriptor, with no native library.
import type { ClrRuntime, CodeBlock, ManagedThread, MethodDescInfo, MethodTableInfo, ModuleInfo, RuntimeDescription, ThreadStoreCounts } from "../clr-runtime.js";
import type { ManagedFunction } from "../../native/windows-unwind.js";
import { CodeVersions, type MethodCodeVersions } from "./code-versions.js";
import { DebugInfoContract, type NativeVar } from "./debug-info.js";
import { FieldDescs } from "./field-desc.js";
import type { ManagedField } from "../model.js";
import type { MetadataReader } from "../../metadata/metadata.js";
import { ExecutionManager } from "./execution-manager.js";
import { FrameChain, type ExplicitFrame } from "./frames.js";
import { Loader } from "./loader.js";
import { ObjectContract } from "./object.js";
import { RuntimeTypeNames, RuntimeTypeSystem, RuntimeTypeSystemDetails } from "./runtime-type-system.js";
import type { RuntimeTarget } from "./target.js";
import { ThreadContract } from "./thread.js";

export class ContractsRuntime implements ClrRuntime {
  private readonly threadContract: ThreadContract;
  private readonly executionManager: ExecutionManager;
  private readonly typeSystem: RuntimeTypeSystem;
  private readonly frameChain: FrameChain;

  constructor(
    readonly target: RuntimeTarget,
    private readonly info: { libcoreclr: string; version?: string },
  ) {
    this.threadContract = new ThreadContract(target);
    this.executionManager = new ExecutionManager(target);
    this.typeSystem = new RuntimeTypeSystem(target);
    this.frameChain = new FrameChain(target);
  }

  explicitFrames(thread: ManagedThread): ExplicitFrame[] {
    return this.frameChain.frames(thread.frame);
  }

  codeBlock(ip: number): CodeBlock | undefined {
    return this.executionManager.codeBlock(ip);
  }

  unwindInfo(ip: number): ManagedFunction | undefined {
    return this.executionManager.unwindInfo(ip);
  }

  methodDesc(address: number): MethodDescInfo {
    return this.typeSystem.methodDesc(address);
  }

  methodTable(address: number): MethodTableInfo {
    return this.typeSystem.methodTable(address);
  }

  module(address: number): ModuleInfo {
    return this.typeSystem.module(address);
  }

  describe(): RuntimeDescription {
    const d = this.target.descriptor;
    return {
      backend: "contracts",
      version: this.info.version,
      libcoreclr: this.info.libcoreclr,
      descriptorAddress: d.address,
      contracts: [...d.contracts].map(([name, version]) => ({ name, version })).sort((a, b) => a.name.localeCompare(b.name)),
      types: [...d.types].map(([name, t]) => ({
        name,
        size: t.size,
        fields: [...t.fields].map(([f, l]) => ({ name: f, offset: l.offset, type: l.type })).sort((a, b) => a.offset - b.offset),
      })).sort((a, b) => a.name.localeCompare(b.name)),
      globals: [...d.globals].map(([name, g]) => ({
        name, value: g.value !== undefined ? "0x" + g.value.toString(16) : undefined, string: g.string, type: g.type, indirect: g.indirect,
      })).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  appDomain(): number {
    return this.target.globalVariable("AppDomain");
  }

  threadStoreCounts(): ThreadStoreCounts {
    return this.threadContract.counts();
  }

  threads(): ManagedThread[] {
    return this.threadContract.threads();
  }

  private loaderContract?: Loader;

  loader(): Loader {
    this.loaderContract ??= new Loader(this.target);
    return this.loaderContract;
  }

  private typeSystemDetailsContract?: RuntimeTypeSystemDetails;
  private typeNamesContract?: RuntimeTypeNames;

  typeNames(): RuntimeTypeNames {
    this.typeNamesContract ??= new RuntimeTypeNames(this.target, this.typeSystemDetails());
    return this.typeNamesContract;
  }

  typeSystemDetails(): RuntimeTypeSystemDetails {
    this.typeSystemDetailsContract ??= new RuntimeTypeSystemDetails(this.target, this.typeSystem);
    return this.typeSystemDetailsContract;
  }

  private objectContract?: ObjectContract;

  objects(): ObjectContract {
    this.objectContract ??= new ObjectContract(this.target, this.typeSystemDetails());
    return this.objectContract;
  }

  private codeVersionsContract?: CodeVersions;

  codeVersions(methodDesc: number): MethodCodeVersions {
    this.codeVersionsContract ??= new CodeVersions(this.target, this.typeSystemDetails(), this.loader());
    return this.codeVersionsContract.versions(methodDesc);
  }

  /** One per runtime: it keeps the table of constructed types it reads once. */
  private fieldDescs?: FieldDescs;

  fields(methodTable: number, address: number, metadata: (module: number) => MetadataReader | undefined): ManagedField[] | undefined {
    if (!FieldDescs.isPublished(this.target)) return undefined;
    const shapeOf = (typeHandle: number) => this.typeNames().typeHandleShape(typeHandle);
    this.fieldDescs ??= new FieldDescs(this.target, this.typeSystemDetails(), this.loader(), metadata, shapeOf, () => this.threads().map((x) => ({ address: x.address, osId: x.osId })));
    return this.fieldDescs.fields(methodTable, address);
  }

  private debugInfoContract?: DebugInfoContract | null;

  ilOffsetsAt(ip: number): number[] | undefined {
    this.debugInfoContract ??= DebugInfoContract.isPublished(this.target) ? new DebugInfoContract(this.target) : null;
    if (!this.debugInfoContract) return undefined;
    const block = this.codeBlock(ip);
    if (!block?.debugInfo) return undefined;
    return DebugInfoContract.ilOffsetsAt(this.debugInfoContract.bounds(block.debugInfo, block.size), block.offset);
  }

  nativeVarsAt(ip: number): NativeVar[] | undefined {
    this.debugInfoContract ??= DebugInfoContract.isPublished(this.target) ? new DebugInfoContract(this.target) : null;
    if (!this.debugInfoContract) return undefined;
    const block = this.codeBlock(ip);
    if (!block?.debugInfo) return undefined;
    const vars = this.debugInfoContract.vars(block.debugInfo);
    const live = vars.filter((v) => v.startOffset <= block.offset && block.offset < v.endOffset);
    // A range that ends at the offset still holds its variable there when no other does: a call
    // that is a method's last instruction returns to the end of the ranges (SOS shows those values).
    const seen = new Set(live.map((v) => v.varNumber));
    for (const v of vars) if (v.endOffset === block.offset && !seen.has(v.varNumber)) live.push(v);
    return live;
  }
}
