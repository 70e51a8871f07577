// What a command is: a name (possibly several words, as lldb's `thread list`), aliases, a
// runner that turns arguments into a plain result object (the --json document), and a
// renderer that turns that object into the text people know from lldb, gdb or SOS.
import { CommandError } from "../errors.js";
import type { NativeProcess } from "../native/process.js";
import type { ClrRuntime } from "../runtime/clr-runtime.js";
import { ManagedRuntime, runtimeFileOf, type ManagedRuntimeOptions } from "../runtime/managed-runtime.js";

export interface Session {
  process: NativeProcess;
  /** 1-based index of the thread commands act on (thread select / setthread). */
  currentThread: number;
  /** The managed model of the dump: both backends behind one object (runtime/managed-runtime.ts). */
  managed: ManagedRuntime;
}

/** A session over an open dump, on its first thread. */
export function newSession(process: NativeProcess, options: ManagedRuntimeOptions = {}): Session {
  return { process, currentThread: 1, managed: new ManagedRuntime(process, options) };
}

/** The first .NET major version whose data contracts answer the commands that declare mayAskDac false. */
const CONTRACTS_SUFFICE_FROM_MAJOR = 10;

/**
 * Whether a batch of commands may ask the DAC: yes unless the dump's runtime version is known to
 * have the data contracts they need and each command says it does not (Command.mayAskDac).
 */
export function batchMayAskDac(session: Session, commands: { command: Command<unknown>; args: string[] }[]): boolean {
  const major = Number(/^(\d+)\./.exec(runtimeFileOf(session.process)?.version ?? "")?.[1]);
  if (!(major >= CONTRACTS_SUFFICE_FROM_MAJOR)) return true;
  return commands.some(({ command, args }) => command.mayAskDac?.(args) ?? true);
}

/** The session's contracts backend; a clear error when the dump has no runtime (or no data contracts). */
export function clrRuntime(session: Session): ClrRuntime {
  return session.managed.contracts();
}

/** The runtime when the dump has a usable one (for commands that work with or without it); native backtraces then name managed code. */
export function optionalClrRuntime(session: Session): ClrRuntime | undefined {
  return session.managed.attachToNativeProcess();
}

/** The words that end an interactive session (the REPL handles them; help and completion list them). */
export const EXIT_COMMANDS = ["exit", "quit", "q"] as const;

export interface Command<R = unknown> {
  /** Canonical name and aliases, each one or more words. */
  names: string[];
  summary: string;
  usage: string;
  run(session: Session, args: string[]): R;
  render(result: R): string;
  /**
   * False when, on a runtime whose data contracts answer it (.NET 10 and later), the command never
   * asks the DAC with these arguments: a batch of such commands starts no DAC host (it costs a
   * process start). Absent: it may. A wrong false costs time only (the DAC starts on first need).
   */
  mayAskDac?(args: string[]): boolean;
}

export function defineCommand<R>(c: Command<R>): Command<R> {
  return c;
}

/** Split a command line into words; double quotes group words. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2]!);
  return out;
}

/** Options parsed from arguments: flags with values (`-c 4`) and switches (`-v`), plus positionals. */
export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  switches: Set<string>;
}

export function parseArgs(args: string[], withValue: string[], switches: string[] = []): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), switches: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (withValue.includes(a)) {
      const v = args[++i];
      if (v === undefined) throw new CommandError(`option ${a} needs a value`, "usage");
      out.values.set(a, v);
    } else if (switches.includes(a)) {
      out.switches.add(a);
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      throw new CommandError(`unknown option ${a}`, "usage");
    } else {
      out.positional.push(a);
    }
  }
  return out;
}

/** An address or number as users type it: 0x-prefixed hex, plain hex with letters, or decimal. */
export function parseNumber(text: string, what = "address"): number {
  const t = text.trim().replace(/`/g, "");
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else if (/^[0-9a-f]+$/i.test(t)) v = parseInt(t, 16); // SOS style: addresses without 0x
  else throw new CommandError(`'${text}' is not a valid ${what} (use hex like 0x7f12a000 or decimal)`);
  if (!Number.isSafeInteger(v)) throw new CommandError(`${what} ${text} is out of range`);
  return v;
}

export { hex as hexAddress, hexPadded } from "../hex.js";
