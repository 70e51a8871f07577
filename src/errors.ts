// Typed errors shared by every layer. Each carries a stable `code` (used in --json output)
// and the process exit code the CLI uses when the error ends a run. The message is one line
// for a person: what went wrong, where, and what to do.

/** Exit codes of the `clrscope` command (documented in README.md). */
export const ExitCode = {
  ok: 0,
  /** A command inside `analyze -c` failed (bad address, unknown command, ...). */
  commandFailed: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** The file cannot be read: missing, a directory, no permission. */
  cannotRead: 3,
  /** The file is readable but not a dump clrscope supports (not ELF, not a core, 32-bit, ...). */
  unsupported: 4,
  /** The file is an ELF core but its headers or notes are damaged or cut short. */
  corrupt: 5,
  /** `ps`/`collect`: the process cannot be reached: not running, not .NET (no diagnostics socket), no permission. */
  cannotAttach: 6,
  /** `collect`: the runtime reported an error, its reply was broken or late, or the dump it wrote does not open. */
  collectFailed: 7,
  /** A bug in clrscope: please report it with --debug output. */
  internal: 70,
  /** The output cannot be written: disk full, I/O error (sysexits.h EX_IOERR). A closed pipe (`| head`) is not an error: exit 0. */
  outputFailed: 74,
  /** `collect` interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ClrscopeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.commandFailed,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The file cannot be opened or read at all. */
export class CannotReadError extends ClrscopeError {
  constructor(message: string) {
    super("cannot-read", message, ExitCode.cannotRead);
  }
}

/** The file is not something clrscope can open (wrong format, class, byte order, machine). */
export class UnsupportedFormatError extends ClrscopeError {
  constructor(message: string) {
    super("unsupported-format", message, ExitCode.unsupported);
  }
}

/** The structure of a file is damaged: counts, offsets or sizes point outside it. */
export class CorruptDataError extends ClrscopeError {
  constructor(message: string) {
    super("corrupt", message, ExitCode.corrupt);
  }
}

/** stdout cannot be written (ENOSPC, EIO, EPIPE): the run ends, since no later output could be seen either. */
export class OutputError extends ClrscopeError {
  constructor(readonly errno: NodeJS.ErrnoException) {
    super("output-failed", `cannot write the output: ${errno.code === "ENOSPC" ? "no space left on the device" : errno.code === "EPIPE" ? "the reader closed it" : "I/O error"} (${errno.code ?? errno.message})`, ExitCode.outputFailed);
  }

  /** A closed pipe: the reader has what it wanted (`clrscope ... | head`). */
  get readerWentAway(): boolean {
    return this.errno.code === "EPIPE";
  }
}

/** A read of target memory that the dump does not hold (and no file on disk can supply). */
export class MemoryNotInDump extends ClrscopeError {
  constructor(
    readonly address: number,
    readonly length: number,
  ) {
    super("memory-not-in-dump", `memory at 0x${address.toString(16)} (${length} bytes) is not in the dump`);
  }
}

/** A user-supplied argument inside a command is wrong (bad address, unknown thread, ...). */
export class CommandError extends ClrscopeError {
  constructor(message: string, code = "bad-argument") {
    super(code, message, ExitCode.commandFailed);
  }
}

/**
 * A live process cannot be reached over its diagnostics socket. `code`: `no-such-process`,
 * `not-dotnet` (no diagnostics socket), `permission-denied`, `socket-path-too-long`.
 */
export class ProcessAccessError extends ClrscopeError {
  constructor(code: "no-such-process" | "not-dotnet" | "permission-denied" | "socket-path-too-long", message: string) {
    super(code, message, ExitCode.cannotAttach);
  }
}

/**
 * A diagnostics IPC exchange failed. `code`: `protocol-error` (a reply that breaks the protocol:
 * wrong magic, cut short, ...), `timeout`, `connection-failed`, `dump-invalid` (the runtime said
 * OK but the file it wrote does not open as a core of that process), `unsupported-by-runtime` (an option the target's
 * runtime is too old for).
 */
export class DiagnosticsIpcError extends ClrscopeError {
  constructor(code: "protocol-error" | "timeout" | "connection-failed" | "dump-invalid" | "unsupported-by-runtime", message: string) {
    super(code, message, ExitCode.collectFailed);
  }
}

/**
 * `collect` will not write to its output path: it exists (without overwrite), is a symlink or
 * not a regular file. `code`: `output-exists`. Exit 2, as a bad command line.
 */
export class OutputPathError extends ClrscopeError {
  constructor(message: string) {
    super("output-exists", message, ExitCode.usage);
  }
}

/** `collect` stopped by SIGINT while the runtime may still be writing the dump. */
export class CollectInterruptedError extends ClrscopeError {
  constructor(message: string) {
    super("interrupted", message, ExitCode.interrupted);
  }
}

/** The runtime answered a diagnostics command with an error: its HRESULT and (GenerateCoreDump3) message. */
export class RuntimeReportedError extends ClrscopeError {
  constructor(
    readonly hresult: number,
    readonly runtimeMessage: string | null,
    message: string,
  ) {
    super("runtime-error", message, ExitCode.collectFailed);
  }
}

/**
 * For fallbacks that tolerate damaged data: a ClrscopeError (damaged or missing input) is
 * swallowed by the caller, anything else is a bug in clrscope and goes on up.
 */
export function rethrowIfBug(e: unknown): void {
  if (!(e instanceof ClrscopeError)) throw e;
}

/** `f()`, or undefined when it fails on damaged or missing input (a ClrscopeError); bugs go on up. */
export function tryOrUndefined<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    rethrowIfBug(e);
    return undefined;
  }
}
