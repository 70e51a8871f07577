// The library entry point: `import { openDump, openClrRuntime } from "clrscope"`.
export { openCoreDump, NativeProcess, type OpenOptions, type ThreadInfo, type NativeFrame, type ThreadBacktrace, type Location } from "./native/process.js";
export { openDump, openClrRuntime, type OpenDumpOptions } from "./runtime/open-dump.js";
export { ManagedRuntime, type ManagedRuntimeOptions } from "./runtime/managed-runtime.js";
export type { ManagedStacks, ManagedStackFrame, ThreadManagedStack, AllManagedStacks } from "./runtime/stacks.js";
export type * from "./runtime/model.js";
export type { ClrRuntime, CodeBlock, MethodDescInfo, MethodTableInfo, ModuleInfo, ExplicitFrame } from "./runtime/clr-runtime.js";
export { ClrscopeError, CannotReadError, UnsupportedFormatError, CorruptDataError, MemoryNotInDump, CommandError, ExitCode } from "./errors.js";
export type { Memory } from "./dump/address-space.js";
export { runCommand, COMMANDS } from "./commands/registry.js";
export { ProcessAccessError, DiagnosticsIpcError, RuntimeReportedError } from "./errors.js";
export { listDotnetProcesses, scanDotnetProcesses, describeDotnetProcess, queryProcessInfo, type DotnetProcess, type IgnoredProcess } from "./collect/process-list.js";
export { collectDump, resolveProcessName, type CollectOptions, type CollectResult } from "./collect/collect-dump.js";
export { findDiagnosticsSocket, type SocketLocation, type DiscoveryOptions } from "./collect/discovery.js";
export type { DumpTypeName, ProcessInfo } from "./collect/ipc-protocol.js";
