// What a command is: a name (possibly several words, as lldb's `thread list`), aliases, a
// runner that turns arguments into a plain result object (the --json document), and a
// renderer that turns that object into the text people know from lldb, gdb or SOS.
import { ClrscopeError, CommandError } from "../errors.js";
import { describeUnreadableRuntime, type NativeProcess } from "../native/process.js";
import type { ClrRuntime } from "../runtime/clr-runtime.js";
import { NoRuntimeError, openClrRuntime } from "../runtime/open-runtime.js";
import { ManagedNames } from "../runtime/managed-names.js";
import { managedCodeProvider } from "../runtime/managed-code-provider.js";
import { dacRuntimeOf, startDac, type DacRuntime, type StartedDac } from "../runtime/dac/dac-runtime.js";
import type { TypeSource } from "./sos/type-source.js";
import { warn } from "../warnings.js";

export interface Session {
  process: NativeProcess;
  /** 1-based index of the thread commands act on (thread select / setthread). */
  currentThread: number;
  /** The managed view, opened on first use by a command that needs it. */
  runtime?: ClrRuntime;
  names?: ManagedNames;
  /** `analyze --dac PATH`: the DAC to load (else one found by the dump's runtime build-id, dac-provenance.ts). */
  dacPath?: string;
  /** The DAC host process, started when the session opens (startSessionDac) or on first need. */
  dacHost?: StartedDac;
  /** The DAC backend once asked for: opened, or why it cannot be. */
  dac?: { runtime?: DacRuntime; error?: string };
  /** `analyze --backend`: force the contracts backend or the DAC for the type commands (default auto). */
  backend?: "auto" | "contracts" | "dac";
  /** The type commands' data source once chosen (sos/type-source.ts). */
  typeSource?: TypeSource;
}

/**
 * Starts loading the dump's DAC in its host process, in the background, when the dump has a .NET
 * runtime and a trusted DAC: the first command that needs it then finds it ready.
 */
export function startSessionDac(session: Session): void {
  if (session.backend === "contracts") return;
  if (!session.dacHost && session.process.runtime) session.dacHost = startDac(session.process, session.dacPath);
}

/** The first .NET major version whose data contracts answer the commands that declare mayAskDac false. */
const CONTRACTS_SUFFICE_FROM_MAJOR = 10;

/**
 * Whether a batch of commands may ask the DAC: yes unless the dump's runtime version is known to
 * have the data contracts they need and each command says it does not (Command.mayAskDac).
 */
export function batchMayAskDac(session: Session, commands: { command: Command<unknown>; args: string[] }[]): boolean {
  const major = Number(/^(\d+)\./.exec(session.process.runtime?.version ?? "")?.[1]);
  if (!(major >= CONTRACTS_SUFFICE_FROM_MAJOR)) return true;
  return commands.some(({ command, args }) => command.mayAskDac?.(args) ?? true);
}

/** Why the DAC is not there when `--backend contracts` disables it: never started nor consulted. */
export const DAC_DISABLED = "--backend contracts disables the DAC";

/** Ends the DAC host process, if any (the session is over). */
export function closeSessionDac(session: Session): void {
  session.dacHost?.host?.close();
}

/** The DAC backend (the runtime's own libmscordaccore.so, in its host process), or why it is not available. */
export function dacRuntime(session: Session): { runtime?: DacRuntime; error?: string } {
  if (session.backend === "contracts") return { error: DAC_DISABLED };
  if (!session.dac) {
    session.dacHost ??= startDac(session.process, session.dacPath);
    const { dac, error } = dacRuntimeOf(session.dacHost, session.process.memory);
    session.dac = dac ? { runtime: dac } : { error: error ?? "the DAC is not available" };
  }
  return session.dac;
}

/** The session's .NET runtime; a clear error when the dump has none (or no data contracts). */
export function clrRuntime(session: Session): ClrRuntime {
  if (!session.runtime) {
    const rt = openClrRuntime(session.process);
    session.runtime = rt;
    session.names = new ManagedNames(rt, session.process.memory);
    // From now on native backtraces unwind and name managed frames too.
    session.process.setManagedCodeProvider(managedCodeProvider(rt, session.names, () => dacRuntime(session).runtime));
  }
  return session.runtime;
}

/**
 * The contracts backend, or, when the dump's runtime publishes no data-contract descriptor (.NET 8
 * and older) or `--backend dac` asks for it, the DAC backend; a clear error when neither is available.
 */
export function managedBackend(session: Session): { contracts: ClrRuntime; dac?: undefined } | { contracts?: undefined; dac: DacRuntime } {
  if (session.backend === "dac") {
    const d = dacRuntime(session);
    if (!d.runtime) throw new NoRuntimeError(`--backend dac: the DAC is not available: ${d.error}`);
    return { dac: d.runtime };
  }
  try {
    return { contracts: clrRuntime(session) };
  } catch (e) {
    if (!(e instanceof NoRuntimeError) || !session.process.runtime) throw e;
    const d = dacRuntime(session);
    if (!d.runtime) throw new NoRuntimeError(`${e.message}; the DAC is not available either: ${d.error}`);
    return { dac: d.runtime };
  }
}

/** The runtime when the dump has a usable one (for commands that work with or without it). */
export function optionalClrRuntime(session: Session): ClrRuntime | undefined {
  if (session.runtime) return session.runtime;
  if (!session.process.runtime) {
    const unreadable = session.process.unreadableRuntime;
    if (unreadable) warn(`${describeUnreadableRuntime(unreadable)}; managed frames are not named and may be missing`);
    return undefined;
  }
  try {
    return clrRuntime(session);
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    // No data contracts (.NET 8 and older): the DAC, if it loads, still names managed code.
    if (e instanceof NoRuntimeError) session.process.setManagedCodeProvider(managedCodeProvider(undefined, undefined, () => dacRuntime(session).runtime, e.message));
    // A runtime whose managed view cannot be read (damaged descriptor, unreadable globals): frames
    // in managed code are then found by frame pointer or scan, or not at all.
    else warn(`the managed view is unavailable (${e.message}): managed frames are not named and may be missing`);
    return undefined;
  }
}

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
