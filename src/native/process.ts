// The native view of a dumped process (what lldb/gdb show): threads with their registers,
// modules, memory, symbols and backtraces. Built lazily on top of the ELF core.
import { basename, join } from "node:path";
import { AddressSpace } from "../dump/address-space.js";
import { FileByteSource, PatchedByteSource, type DumpAlterations } from "../dump/byte-source.js";
import { readCoreFile, type CoreFile, type CoreThread } from "../dump/elf-core.js";
import { MappedFiles } from "../dump/mapped-files.js";
import { AT_ENTRY, signalName } from "../dump/notes.js";
import { MAX_CACHED_LOCATIONS } from "../limits.js";
import { ProcessCodeMap } from "./code-map.js";
import { ModuleList, type NativeModule } from "./modules.js";
import { registersFromUserRegs, type RegisterSet } from "./registers.js";
import { Unwinder, type FrameTrust, type StopReason } from "./unwinder.js";
import type { ManagedFunction } from "./windows-unwind.js";
import { hex } from "../hex.js";

export interface OpenOptions {
  /** The program's executable, when its path in the dump does not exist here. */
  exe?: string;
  /** Directories with debug files (by build-id or name) or copies of the process's libraries. */
  symbolDirs?: string[];
  /** Read the dump with these bytes replaced or cut short (corruption tests); the file is never written. */
  alterations?: DumpAlterations;
}

export interface ThreadInfo {
  /** 1-based index as lldb and gdb number threads. */
  index: number;
  tid: number;
  core: CoreThread;
}

export interface Location {
  /** The ELF module, or for managed code a pseudo-module named after its assembly. */
  module: NativeModule | { name: string; path: string } | undefined;
  symbol: string | undefined;
  /** Offset of the address from the symbol's start (or from the module base when no symbol). */
  offset: number | undefined;
  /** Start address and size of the symbol, when known. */
  symbolStart?: number;
  symbolSize?: number;
}

/** Managed code's pseudo-module (named by the runtime), as opposed to an ELF module. */
function isManagedLocation(loc: Location): boolean {
  return loc.module !== undefined && !("bias" in loc.module);
}

export interface NativeFrame extends Location {
  index: number;
  ip: number;
  sp: number;
  trust: FrameTrust;
}

export interface ThreadBacktrace {
  thread: ThreadInfo;
  frames: NativeFrame[];
  stop: StopReason;
}

export interface RuntimeInfo {
  /** Path of libcoreclr.so in the process. */
  path: string;
  /** Version from the shared-framework folder name, when the path shows it. */
  version?: string;
}

export const SIGNAL_TRAMPOLINE_NAME = "<signal handler called>";

/**
 * What a managed runtime knows about code outside ELF modules (JIT'd code, ReadyToRun images):
 * how to unwind it and what to call it. Supplied by the runtime layer above.
 */
export interface ManagedCodeProvider {
  unwindInfo(address: number): ManagedFunction | undefined;
  /** "Assembly.dll" and "Namespace.Type.Method(Args)" with the offset from the method start. */
  describe(address: number): { module: string; symbol: string; offset: number } | undefined;
  /** Bytes of code of the method starting at `start` (body and funclets), when the runtime says. */
  codeSize(start: number): number | undefined;
}

export class NativeProcess {
  readonly memory: AddressSpace;
  readonly threads: ThreadInfo[];
  private readonly mapped: MappedFiles;
  private modulesCache?: ModuleList;
  private unwinderCache?: Unwinder;
  private codeMapCache?: ProcessCodeMap;
  private managedCode?: ManagedCodeProvider;
  private readonly locations = new Map<number, Location>();
  private readonly closeHooks: (() => void)[] = [];

  constructor(
    readonly core: CoreFile,
    /** How the dump was opened (a helper process that opens it again, such as the DAC host, needs the same). */
    readonly options: OpenOptions = {},
  ) {
    const dumpOnly = new AddressSpace(core.source, core.segments);
    this.mapped = new MappedFiles(core.files, (a, l) => dumpOnly.tryRead(a, l), (p) => this.fileCandidates(p));
    this.memory = new AddressSpace(core.source, core.segments, this.mapped);
    this.threads = core.threads.map((t, i) => ({ index: i + 1, tid: t.tid, core: t }));
  }

  get name(): string {
    return this.core.process?.fname ?? (this.mainModule ? this.mainModule.name : "?");
  }
  get pid(): number | undefined {
    return this.core.process?.pid;
  }
  /** The signal that ended the process (from the first thread, as the kernel orders it). */
  get signal(): { number: number; name: string } | undefined {
    const t = this.core.threads.find((x) => x.siginfo?.signo || x.status.signal);
    const n = t?.siginfo?.signo || t?.status.signal;
    return n ? { number: n, name: signalName(n) } : undefined;
  }

  get modules(): ModuleList {
    this.modulesCache ??= new ModuleList(this.memory, this.core.files, this.core.auxv, this.mapped, { debugDirs: this.options.symbolDirs ?? [] });
    return this.modulesCache;
  }

  get mainModule(): NativeModule | undefined {
    const entry = this.core.auxv.get(AT_ENTRY);
    return entry !== undefined ? this.modules.at(entry) : undefined;
  }

  get runtime(): RuntimeInfo | undefined {
    const m = this.modules.modules.find((x) => x.name === "libcoreclr.so");
    if (!m) return undefined;
    const version = /\/Microsoft\.NETCore\.App\/([^/]+)\/libcoreclr\.so$/.exec(m.path)?.[1];
    return { path: m.path, version };
  }

  /**
   * libcoreclr.so when NT_FILE lists it but it is not a module here (a dump cut short or damaged
   * before its pages, with no copy of the file on this machine): its path and the mappings whose
   * first page the dump lacks.
   */
  get unreadableRuntime(): { path: string; missing: { start: number; end: number }[] } | undefined {
    if (this.runtime) return undefined;
    const mappings = this.core.files.filter((f) => basename(f.path) === "libcoreclr.so");
    if (mappings.length === 0) return undefined;
    const missing = mappings.filter((f) => this.memory.tryRead(f.start, 1) === undefined).map((f) => ({ start: f.start, end: f.end }));
    return { path: mappings[0]!.path, missing };
  }

  get mappedFiles(): MappedFiles {
    return this.mapped;
  }

  thread(index: number): ThreadInfo | undefined {
    return this.threads[index - 1];
  }

  threadByTid(tid: number): ThreadInfo | undefined {
    return this.threads.find((t) => t.tid === tid);
  }

  private get unwinder(): Unwinder {
    if (!this.unwinderCache) {
      this.codeMapCache = new ProcessCodeMap(this.memory, this.core.segments, this.modules);
      if (this.managedCode) this.codeMapCache.managedCode = (a) => this.managedCode!.unwindInfo(a);
      this.unwinderCache = new Unwinder(this.memory, this.codeMapCache);
    }
    return this.unwinderCache;
  }

  /** Let backtraces unwind and name managed code (mixed-mode `bt`). */
  setManagedCodeProvider(provider: ManagedCodeProvider): void {
    this.managedCode = provider;
    this.unwinderCache = undefined;
    this.locations.clear();
  }

  /** The thread's frames without symbols (for callers that only need ip/sp, e.g. clrstack). */
  unwindThread(thread: ThreadInfo, maxFrames?: number): { frames: { index: number; ip: number; sp: number; trust: FrameTrust; registers: RegisterSet }[]; stop: StopReason } {
    const bt = this.unwinder.unwind(registersFromUserRegs(thread.core.status.regs), { maxFrames });
    return { frames: bt.frames.map((f, index) => ({ index, ip: f.ip, sp: f.sp, trust: f.trust, registers: f.registers })), stop: bt.stop };
  }

  backtrace(thread: ThreadInfo, maxFrames?: number): ThreadBacktrace {
    const bt = this.unwinder.unwind(registersFromUserRegs(thread.core.status.regs), { maxFrames });
    const frames = bt.frames.map((f, index): NativeFrame => {
      const loc = this.locate(f.ip, !f.exact);
      return { index, ip: f.ip, sp: f.sp, trust: f.trust, ...loc, symbol: f.signalTrampoline ? SIGNAL_TRAMPOLINE_NAME : loc.symbol };
    });
    return { thread, frames, stop: bt.stop };
  }

  /**
   * module!symbol+offset for an address. For return addresses the symbol is looked up at
   * address-1 (the call instruction), so calls at the very end of a function resolve to it.
   */
  locate(address: number, isReturnAddress = false): Location {
    // Backtraces repeat the same return addresses (recursion, many threads in one wait).
    const key = isReturnAddress ? -address : address;
    let loc = this.locations.get(key);
    if (loc === undefined) {
      loc = this.locateUncached(address, isReturnAddress);
      // Managed code is named by the runtime, which warns at each use of damaged data: not cached here.
      if (loc.module === undefined || isManagedLocation(loc)) return loc;
      if (this.locations.size > MAX_CACHED_LOCATIONS) this.locations.clear();
      this.locations.set(key, loc);
    }
    return loc;
  }

  private locateUncached(address: number, isReturnAddress: boolean): Location {
    const module = this.modules.at(address);
    if (!module) {
      const managed = this.managedCode?.describe(isReturnAddress ? address - 1 : address);
      if (!managed) return { module: undefined, symbol: undefined, offset: undefined };
      const offset = managed.offset + (isReturnAddress ? 1 : 0);
      return { module: { name: managed.module, path: managed.module }, symbol: managed.symbol, offset, symbolStart: address - offset };
    }
    const probe = isReturnAddress ? address - 1 : address;
    const hit = this.modules.symbols(module).table.lookup(probe - module.bias);
    if (!hit) return { module, symbol: undefined, offset: address - module.base };
    return { module, symbol: hit.name, offset: address - (hit.value + module.bias), symbolStart: hit.value + module.bias, symbolSize: hit.size };
  }

  /**
   * Start and size of the function holding `address`: its sized ELF symbol, or the managed
   * method's code as the runtime gives it; undefined when no function of known bounds holds it.
   */
  functionBounds(address: number): { start: number; size: number } | undefined {
    const loc = this.locate(address);
    if (loc.symbolStart === undefined) return undefined;
    const size = isManagedLocation(loc) ? this.managedCode?.codeSize(loc.symbolStart) : loc.symbolSize;
    return size ? { start: loc.symbolStart, size } : undefined;
  }

  /** The --symbols directories this dump was opened with. */
  get symbolDirs(): string[] {
    return this.options.symbolDirs ?? [];
  }

  /** Files to try for a mapped path: --exe for the main program, copies in --symbols dirs, the path itself. */
  private fileCandidates(path: string): { path: string; trusted: boolean }[] {
    const out: { path: string; trusted: boolean }[] = [];
    const exe = this.options.exe;
    if (exe && (basename(exe) === basename(path) || this.isMainProgramPath(path))) out.push({ path: exe, trusted: true });
    for (const d of this.options.symbolDirs ?? []) out.push({ path: join(d, basename(path)), trusted: false });
    out.push({ path, trusted: false });
    return out;
  }

  private isMainProgramPath(path: string): boolean {
    const entry = this.core.auxv.get(AT_ENTRY);
    return entry !== undefined && this.core.files.some((f) => f.path === path && entry >= f.start && entry < f.end);
  }

  /** Runs `onClose` when the dump is closed (the layers above end what they started for it: the DAC host). */
  whenClosed(onClose: () => void): void {
    this.closeHooks.push(onClose);
  }

  close(): void {
    for (const hook of this.closeHooks.splice(0)) hook();
    this.mapped.close();
    this.core.source.close();
  }
}

/** One line saying which of libcoreclr's pages the dump lacks. */
export function describeUnreadableRuntime(u: NonNullable<NativeProcess["unreadableRuntime"]>): string {
  const pages = u.missing.map((m) => `${hex(m.start)}-${hex(m.end)}`).join(", ");
  return u.missing.length > 0
    ? `NT_FILE lists ${u.path}, but the dump lacks its mappings ${pages} (cut short or damaged) and no file here can be verified to replace them: the .NET runtime cannot be read`
    : `NT_FILE lists ${u.path}, but its ELF image in the dump is unreadable (damaged): the .NET runtime cannot be read`;
}

/** Open a core dump file (headers and notes only; everything else is read on demand). */
export function openCoreDump(path: string, options: OpenOptions = {}): NativeProcess {
  const file = new FileByteSource(path);
  const source = options.alterations ? new PatchedByteSource(file, options.alterations) : file;
  try {
    return new NativeProcess(readCoreFile(source), options);
  } catch (e) {
    source.close();
    throw e;
  }
}
