// The composite managed runtime of a dump: one object over both backends, the runtime's data
// contracts (pure TypeScript, runtime/contracts) and its DAC (runtime/dac, in a host process).
// Each question goes to the first backend that can answer it (the contracts, then the DAC, as
// `--backend` allows), and answers say which one did. Commands, analyses and the library see only
// this object and the model's shapes (model.ts), never a backend.
import { ClrscopeError, tryOrUndefined } from "../errors.js";
import { describeUnreadableRuntime, type ManagedCodeProvider, type NativeProcess } from "../native/process.js";
import { warn } from "../warnings.js";
import type { ClrRuntime, RuntimeDescription } from "./clr-runtime.js";
import { dacRuntimeOf, startDac, type DacRuntime, type StartedDac } from "./dac/dac-runtime.js";
import { managedCodeProvider } from "./managed-code-provider.js";
import { ManagedNames } from "./managed-names.js";
import { dynamicMethodObject, readDynamicMethodIl } from "./dynamic-il.js";
import type { DynamicMethodIl, BackendChoice, BackendName, DacBackendInfo, ManagedModuleSummary, ManagedThreadInDomain, DetailedStackWalker, ExceptionSource, FieldsAnswer, ModuleImageRef, ObjectReader, ThreadStore } from "./model.js";
import { contractsExceptionSource, dacExceptionSource, dacObjectReader, objectTypeName } from "./objects.js";
import { NoRuntimeError, openContractsRuntime } from "./open-runtime.js";
import { ManagedStacks } from "./stacks.js";
import { createTypeSource, type TypeSource } from "./type-source.js";

export interface ManagedRuntimeOptions {
  /** `--dac PATH`: the DAC to load (else one found by the dump's runtime build-id, dac-provenance.ts). */
  dacPath?: string;
  /** `--backend`: auto (default), contracts only (the DAC is never started), or the DAC first. */
  backend?: BackendChoice;
  /** Benchmarks: a DAC host already started, or a DAC already loaded (in this process). */
  startedDac?: StartedDac;
  loadedDac?: DacRuntime;
}

/** The backend that answers questions about the runtime as a whole (threads, objects, exceptions). */
type Primary = { backend: "contracts"; rt: ClrRuntime; dac?: undefined } | { backend: "dac"; dac: DacRuntime; rt?: undefined };

export class ManagedRuntime {
  readonly choice: BackendChoice;
  private readonly dacPath?: string;
  private rt?: ClrRuntime;
  private managedNames?: ManagedNames;
  private dacHost?: StartedDac;
  private dacAnswer?: { runtime?: DacRuntime; error?: string };
  private types?: TypeSource;
  private managedStacks?: ManagedStacks;
  /** A managed code provider is installed on the process (backtraces unwind and name managed frames). */
  private codeProviderInstalled = false;

  constructor(
    readonly process: NativeProcess,
    options: ManagedRuntimeOptions = {},
  ) {
    this.choice = options.backend ?? "auto";
    this.dacPath = options.dacPath;
    this.dacHost = options.startedDac;
    if (options.loadedDac) this.dacAnswer = { runtime: options.loadedDac };
  }

  /**
   * Starts loading the dump's DAC in its host process, in the background, when the dump has a .NET
   * runtime, a trusted DAC and `--backend` allows it: the first question that needs it then finds it ready.
   */
  startDac(): void {
    if (this.choice !== "contracts" && !this.dacHost && runtimeFileOf(this.process)) this.dacHost = startDac(this.process, this.dacPath);
  }

  /** Ends the DAC host process, if any (the session is over). */
  close(): void {
    this.dacHost?.host?.close();
  }

  /** The contracts backend; NoRuntimeError when the dump has no runtime or no data-contract descriptor. */
  contracts(): ClrRuntime {
    if (!this.rt) {
      const rt = openContractsRuntime(this.process);
      this.rt = rt;
      this.managedNames = new ManagedNames(rt, this.process.memory);
      // From now on native backtraces unwind and name managed frames too.
      if (!this.codeProviderInstalled) this.installCodeProvider(managedCodeProvider(rt, this.managedNames, () => this.dacRuntime().runtime));
    }
    return this.rt;
  }

  private installCodeProvider(provider: ManagedCodeProvider): void {
    this.process.setManagedCodeProvider(provider);
    this.codeProviderInstalled = true;
  }

  /** Names of types and methods over the contracts backend (opens it). */
  get names(): ManagedNames {
    this.contracts();
    return this.managedNames!;
  }

  /** Names over the contracts backend when it has opened (undefined otherwise: nothing is opened here). */
  get openedNames(): ManagedNames | undefined {
    return this.managedNames;
  }

  /**
   * The DAC backend (the runtime's own libmscordaccore.so, in its host process), or why it is not
   * available. For runtime/ only: commands ask the composite's questions instead.
   */
  dacRuntime(): { runtime?: DacRuntime; error?: string } {
    if (!this.dacAnswer) {
      if (this.choice === "contracts") {
        this.dacAnswer = { error: "--backend contracts disables the DAC" };
      } else {
        this.dacHost ??= startDac(this.process, this.dacPath);
        const { dac, error } = dacRuntimeOf(this.dacHost, this.process.memory);
        this.dacAnswer = dac ? { runtime: dac } : { error: error ?? "the DAC is not available" };
      }
    }
    return this.dacAnswer;
  }

  /**
   * The backend for whole-runtime questions: the contracts, or, when the dump's runtime publishes no
   * data-contract descriptor (.NET 8 and older) or `--backend dac` asks for it, the DAC; a clear
   * error when neither is available.
   */
  private primary(): Primary {
    if (this.choice === "dac") {
      const d = this.dacRuntime();
      if (!d.runtime) throw new NoRuntimeError(`--backend dac: the DAC is not available: ${d.error}`);
      return { backend: "dac", dac: d.runtime };
    }
    try {
      return { backend: "contracts", rt: this.contracts() };
    } catch (e) {
      if (!(e instanceof NoRuntimeError) || !this.process.runtime || this.choice === "contracts") throw e;
      const d = this.dacRuntime();
      if (!d.runtime) throw new NoRuntimeError(`${e.message}; the DAC is not available either: ${d.error}`);
      return { backend: "dac", dac: d.runtime };
    }
  }

  /** Which backend answers whole-runtime questions (throws when none can). */
  primaryBackend(): BackendName {
    return this.primary().backend;
  }

  /**
   * Lets native backtraces unwind and name managed code (the contracts' code map, else the DAC's),
   * when the dump has a usable runtime; returns the contracts backend when it opened.
   */
  attachToNativeProcess(): ClrRuntime | undefined {
    if (this.rt) return this.rt;
    const provider = this.resolveCodeProvider();
    if (provider && !this.codeProviderInstalled) this.installCodeProvider(provider);
    return this.rt;
  }

  /**
   * Library use: backtraces name managed frames from the first one on, with no call to make. Nothing
   * is opened until a backtrace meets code outside every module (the runtime then, the DAC only if
   * the contracts cannot map code).
   */
  attachLazily(): void {
    if (this.codeProviderInstalled) return;
    let resolved: ManagedCodeProvider | null | undefined;
    const provider = (): ManagedCodeProvider | undefined => {
      if (resolved === undefined) resolved = this.resolveCodeProvider() ?? null;
      return resolved ?? undefined;
    };
    this.installCodeProvider({
      unwindInfo: (address) => provider()?.unwindInfo(address),
      describe: (address) => provider()?.describe(address),
      codeSize: (start) => provider()?.codeSize(start),
    });
  }

  /** The code provider over this runtime: the contracts' (DAC behind), the DAC's alone (no descriptor), or none (with a warning when a runtime is there but unreadable). */
  private resolveCodeProvider(): ManagedCodeProvider | undefined {
    if (!this.process.runtime) {
      const unreadable = this.process.unreadableRuntime;
      if (unreadable) warn(`${describeUnreadableRuntime(unreadable)}; managed frames are not named and may be missing`);
      return undefined;
    }
    try {
      const rt = this.contracts();
      return managedCodeProvider(rt, this.names, () => this.dacRuntime().runtime);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      // No data contracts (.NET 8 and older): the DAC, if it loads, still names managed code.
      if (e instanceof NoRuntimeError) return managedCodeProvider(undefined, undefined, () => this.dacRuntime().runtime, e.message);
      // A runtime whose managed view cannot be read (damaged descriptor, unreadable globals): frames
      // in managed code are then found by frame pointer or scan, or not at all.
      warn(`the managed view is unavailable (${e.message}): managed frames are not named and may be missing`);
      return undefined;
    }
  }

  /** Where the type and loader commands get their data (type-source.ts), chosen once. */
  typeSource(): TypeSource {
    this.types ??= createTypeSource({
      process: this.process,
      choice: this.choice,
      contracts: () => this.contracts(),
      names: () => this.names,
      dac: () => this.dacRuntime(),
    });
    return this.types;
  }

  /** The runtime's thread store and threads, with each thread's AppDomain. */
  threadStore(): ThreadStore {
    const p = this.primary();
    if (p.dac) {
      const dac = p.dac;
      return { backend: "dac", counts: dac.threadStoreCounts(), threads: dac.threads(), typeNameOf: (o) => dac.methodTableName(dac.object(o).methodTable) };
    }
    const rt = p.rt;
    const domain = rt.appDomain();
    return {
      backend: "contracts",
      counts: rt.threadStoreCounts(),
      threads: rt.threads().map((t) => ({ ...t, domain })),
      typeNameOf: (o) => objectTypeName(rt, this.names, rt.objects().methodTableOf(o)),
    };
  }

  /** The managed threads in the thread store's order, each with its AppDomain (threadStore() says which backend answered). */
  threads(): ManagedThreadInDomain[] {
    return this.threadStore().threads;
  }

  /** The AppDomain's managed modules in load order (typeSource().backend says which backend answered). */
  modules(): ManagedModuleSummary[] {
    return this.typeSource().moduleSummaries();
  }

  /** What printexception reads. */
  exceptionSource(): ExceptionSource {
    const p = this.primary();
    return p.dac ? dacExceptionSource(p.dac) : contractsExceptionSource(p.rt, this.names);
  }

  /** Objects from the DAC when it is the primary backend (no descriptor, or `--backend dac`); undefined when the contracts answer. */
  dacObjects(): ObjectReader | undefined {
    const p = this.primary();
    return p.dac ? dacObjectReader(p.dac) : undefined;
  }

  /** An object's fields (SOS DisplayFields: parents' first, statics included), or why they cannot be listed. */
  instanceFields(methodTable: number, address: number): FieldsAnswer {
    // .NET 11's descriptor publishes the FieldDesc layout: the contracts list fields there.
    if (this.choice !== "dac") {
      const contracts = this.contractsFields(methodTable, address);
      if (contracts) return contracts;
    }
    // The descriptors of .NET 9 and 10 publish no FieldDesc layout: the DAC lists fields.
    const dac = this.dacRuntime();
    if (!dac.runtime) return { error: dac.error ?? "the DAC is not available" };
    const runtime = dac.runtime;
    try {
      const list = runtime.fieldList(methodTable, address);
      if (list.failure && list.fields.length === 0) return { error: list.failure };
      return { ...list, backend: "dac", from: `the DAC ${runtime.path}`, typeName: (mt) => runtime.methodTableName(mt) };
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { error: e.message };
    }
  }

  /** The fields from the runtime's FieldDescs, where its descriptor publishes them (undefined elsewhere). */
  private contractsFields(methodTable: number, address: number): FieldsAnswer | undefined {
    const rt = tryOrUndefined(() => this.contracts());
    if (!rt?.fields) return undefined;
    const names = this.names;
    try {
      const fields = rt.fields(methodTable, address, (m) => names.moduleMetadata(m));
      if (!fields) return undefined;
      return { fields, backend: "contracts", from: "the runtime's FieldDescs (data contracts)", typeName: (mt) => objectTypeName(rt, names, mt) };
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { error: e.message };
    }
  }

  /** An array's rank and its elements' CorElementType (the DAC's GetObjectData; the descriptors publish no element type), undefined when unknown. */
  arrayShape(address: number): { rank: number; elementType: number } | undefined {
    const dac = this.dacRuntime().runtime;
    if (!dac) return this.contractsArrayShape(address);
    try {
      const o = dac.object(address);
      return { rank: o.rank, elementType: o.elementType };
    } catch (e) {
      if (e instanceof ClrscopeError) return undefined;
      throw e;
    }
  }
  /** Without the DAC: the rank and the element type's signature CorElementType from the MethodTables. */
  private contractsArrayShape(address: number): { rank: number; elementType: number } | undefined {
    const rt = tryOrUndefined(() => this.contracts());
    if (!rt) return undefined;
    return tryOrUndefined(() => {
      const objects = rt.objects();
      const mt = objects.methodTableOf(address);
      const shape = rt.typeNames().typeHandleShape(mt);
      const element = objects.arrayInfo(address).elementTypeHandle;
      if (shape.kind !== "array" || element === 0 || (element & 2) !== 0) return undefined;
      return { rank: shape.rank, elementType: rt.typeSystemDetails().signatureElementType(element) };
    });
  }


  /**
   * A DynamicMethod's IL and token table (SOS dumpil of a DynamicMethodDesc), undefined when the
   * MethodDesc is not a DynamicMethod's. The DAC names the managed DynamicMethod object (no
   * descriptor publishes the resolver), so `error` says why when the DAC is not available.
   */
  dynamicMethodIl(methodDesc: number): { il?: DynamicMethodIl; error?: string } | undefined {
    const d = this.dacRuntime();
    if (!d.runtime) {
      // Without the DAC, the contracts still tell a DynamicMethod's MethodDesc (LCG) from an IL stub's.
      const kind = tryOrUndefined(() => this.contracts().typeNames().dynamicMethod(methodDesc)?.kind);
      if (kind !== undefined && kind !== "lcg") return undefined;
      return { error: `the IL of a DynamicMethod is read through the DAC, which is not available: ${d.error}` };
    }
    const dac = d.runtime;
    try {
      const object = dynamicMethodObject(dac, methodDesc);
      if (object === 0) return undefined;
      return { il: readDynamicMethodIl(dac, object) };
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      return { error: e.message };
    }
  }

  /** A stack walker that also gives parameters, locals and IL offsets (the DAC's), or why there is none. */
  detailedStackWalker(): { walker?: DetailedStackWalker; error?: string } {
    const d = this.dacRuntime();
    return d.runtime ? { walker: dacStackWalker(d.runtime) } : { error: d.error };
  }

  /** Managed stack walking (clrstack, pstacks): the contracts walk, kept for the session, or the DAC's. */
  stacks(): ManagedStacks {
    return (this.managedStacks ??= new ManagedStacks(this.process, () => this.contracts(), () => this.detailedStackWalker()));
  }

  /** What `runtime` says of the DAC backend. */
  dacInfo(): DacBackendInfo {
    const { runtime: dac, error } = this.dacRuntime();
    return dac ? { active: true, path: dac.path, source: dac.source, initMs: Math.round(dac.initMs * 10) / 10, version: dac.version } : { active: false, error };
  }

  /** The contracts backend's description of the runtime (descriptor, contracts, types, globals), undefined when only the DAC answers. */
  describeContracts(): RuntimeDescription | undefined {
    const p = this.primary();
    return p.rt?.describe();
  }
}

/** The DAC's own stack walk, as SOS's ClrStack asks it. */
function dacStackWalker(dac: DacRuntime): DetailedStackWalker {
  return {
    backend: "dac",
    threads: () => dac.threads(),
    stackWalk: (osThreadId, options) => dac.stackWalk(osThreadId, options),
    stackWalks: (osThreadIds, options) => dac.stackWalks(osThreadIds, options),
    prepare: (frameAddresses, methodDescs, names) => {
      const each = (xs: number[]) => [...new Set(xs)].map((x) => [x]);
      dac.prefetch("methodDescFromFrame", each(frameAddresses));
      if (names) dac.prefetch("methodDescName", each(methodDescs));
      dac.prefetch("methodDescData", each(methodDescs));
      const modules = methodDescs.flatMap((md) => tryOrUndefined(() => dac.methodDesc(md).module) ?? []);
      dac.prefetch("moduleData", each(modules));
      dac.prefetch("peFileName", each(modules.flatMap((m) => tryOrUndefined(() => dac.sos.moduleData(m).PEAssembly) || [])));
    },
    methodName: (methodDesc) => dac.sos.methodDescName(methodDesc),
    frameMethodDesc: (frameAddress) => dac.sos.methodDescFromFrame(frameAddress),
    methodModule: (methodDesc): ModuleImageRef | undefined => {
      if (methodDesc === 0) return undefined;
      try {
        const module = dac.methodDesc(methodDesc).module;
        return { base: dac.sos.moduleData(module).ilBase, path: dac.modulePath(module) };
      } catch (e) {
        if (e instanceof ClrscopeError) return undefined;
        throw e;
      }
    },
  };
}

/**
 * The dump's libcoreclr.so as its NT_FILE note names it, and the version its path shows: enough to
 * decide about the DAC host before the module list is built (the host builds its own).
 */
export function runtimeFileOf(process: NativeProcess): { path: string; version?: string } | undefined {
  const file = process.core.files.find((f) => f.path.endsWith("/libcoreclr.so"));
  if (!file) return undefined;
  return { path: file.path, version: /\/Microsoft\.NETCore\.App\/([^/]+)\/libcoreclr\.so$/.exec(file.path)?.[1] };
}
