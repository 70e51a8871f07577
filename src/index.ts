// The library entry point: `import { openCoreDump, openClrRuntime } from "clrscope"`.
export { openCoreDump, NativeProcess, type OpenOptions, type ThreadInfo, type NativeFrame, type ThreadBacktrace, type Location } from "./native/process.js";
export { openClrRuntime } from "./runtime/open-runtime.js";
export type { ClrRuntime, ManagedThread, CodeBlock, MethodDescInfo, MethodTableInfo, ModuleInfo, ExplicitFrame } from "./runtime/clr-runtime.js";
export { ClrscopeError, CannotReadError, UnsupportedFormatError, CorruptDataError, MemoryNotInDump, CommandError, ExitCode } from "./errors.js";
export type { Memory } from "./dump/address-space.js";
export { runCommand, COMMANDS } from "./commands/registry.js";
export { ProcessAccessError, DiagnosticsIpcError, RuntimeReportedError } from "./errors.js";
export { listDotnetProcesses, scanDotnetProcesses, describeDotnetProcess, queryProcessInfo, type DotnetProcess, type IgnoredProcess } from "./collect/process-list.js";
export { collectDump, resolveProcessName, type CollectOptions, type CollectResult } from "./collect/collect-dump.js";
export { findDiagnosticsSocket, type SocketLocation, type DiscoveryOptions } from "./collect/discovery.js";
export type { DumpTypeName, ProcessInfo } from "./collect/ipc-protocol.js";
