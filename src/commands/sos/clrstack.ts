// `clrstack [-all] [-p] [-l] [-a] [-n]` (SOS ClrStack): the managed frames of a thread, innermost
// first, with the explicit runtime Frames (transitions) between them, by stack address. The walk
// is the model's (runtime/stacks.ts); names come from metadata. Parameters,
// locals and the IL offsets behind source lines come from the runtime's DAC (its own stack walk,
// as SOS's ClrStack asks it); where the descriptor cannot drive the walk (.NET 8 and 9) the DAC
// walks the stack itself. Without a DAC, .NET 11's DebugInfo contract gives the IL offsets and the
// variable locations of JIT'd code (runtime/frame-values.ts).
import { throwIfCancelled } from "../../cancellation.js";
import { ClrscopeError, CommandError, tryOrUndefined } from "../../errors.js";
import type { ManagedThread } from "../../runtime/clr-runtime.js";
import { NoRuntimeError } from "../../runtime/open-runtime.js";
import type { DetailedStackWalker, FrameValue, WalkedFrame } from "../../runtime/model.js";
import { SourceLines } from "../../runtime/source-lines.js";
import { frameValues } from "../../runtime/frame-values.js";
import type { RegisterSet } from "../../native/registers.js";
import { contractsCannotWalk, dacMethodName, dacStack, threadsInDump, type ThreadManagedStack } from "../../runtime/stacks.js";
import { clrRuntime, defineCommand, hexAddress, parseArgs, type Session } from "../command.js";
import { hexDigits, hexPadded } from "../../hex.js";

/** A parameter or local as SOS prints it. */
export interface ClrStackValue {
  /** Parameter name (from the DAC, which reads metadata), local name (portable PDB), or null. */
  name: string | null;
  /** "0x..." stack address, "<CLR reg>" when in a register, null when the DAC gives no single location. */
  location: string | null;
  /** SOS's value: the first 1, 2, 4 or 8 bytes as a number ("0x..." 16 digits; 0 for other sizes); null: `<no data>`. */
  value: string | null;
  /** All the value's bytes (hex, target order), null without data. */
  bytes: string | null;
}

export interface ClrStackFrame {
  kind: "managed" | "frame";
  /** Child SP: the frame's stack pointer (for explicit Frames, the Frame's address). */
  sp: string;
  ip: string;
  /**
   * "Namespace.Type.Method(Args)" or, for explicit Frames, "[InlinedCallFrame: 0x...]" followed,
   * as SOS does, by the method the Frame stands for when the DAC names one (a P/Invoke's target).
   */
  callSite: string;
  /** The managed frame's MethodDesc, or the method an explicit Frame stands for (null when none). */
  methodDesc: string | null;
  /** The explicit Frame's type name, for kind "frame". */
  frameName: string | null;
  /** Source file and line from the module's portable PDB (managed frames; absent when unknown or with -n). */
  source?: { file: string; line: number };
  /** With -p / -a (managed frames). */
  parameters?: ClrStackValue[];
  /** With -l / -a (managed frames). */
  locals?: ClrStackValue[];
}

export interface ClrStackResult {
  /** Who walked the stacks: the contracts backend, or the DAC (runtimes whose descriptor cannot). */
  walker: "contracts" | "dac";
  /** Why parameters, locals or source lines are missing, when they are. */
  note?: string;
  threads: { osId: number; managedId: number; dbg: number | null; frames: ClrStackFrame[] }[];
}

interface StackOptions {
  parameters: boolean;
  locals: boolean;
  lines: boolean;
}

type ThreadStack = ClrStackResult["threads"][number];

/** A walked stack (runtime/stacks.ts) as clrstack's rows, its methods named by `nameOf`. */
function rowsOf(session: Session, stack: ThreadManagedStack, nameOf: (methodDesc: number) => string): ThreadStack {
  const frames = stack.frames.map((f): ClrStackFrame => {
    if (f.kind === "managed") {
      return { kind: "managed", sp: hexAddress(f.sp), ip: hexAddress(f.ip), callSite: nameOf(f.methodDesc!), methodDesc: hexAddress(f.methodDesc!), frameName: null };
    }
    const row: ClrStackFrame = { kind: "frame", sp: hexAddress(f.sp), ip: hexAddress(f.ip), callSite: `[${f.frameName}: ${hexDigits(f.sp, 16)}]`, methodDesc: null, frameName: f.frameName };
    // SOS names the method the Frame stands for after it, when the runtime says which (GetMethodDescPtrFromFrame).
    const method = f.methodDesc ? tryOrUndefined(() => session.managed.names.methodSignature(f.methodDesc!)) : undefined;
    if (method !== undefined) {
      row.methodDesc = hexAddress(f.methodDesc!);
      row.callSite = `${row.callSite} ${method}`;
    }
    return row;
  });
  return { osId: stack.osId, managedId: stack.managedId, dbg: stack.dbg, frames };
}

/**
 * Source lines from the runtime's own DebugInfo contract (.NET 11), when the DAC is not there:
 * each managed row's IL offset (of the return address minus one, but in the leaf frame, as SOS)
 * mapped through the module's portable PDB.
 */
function annotateFromContracts(session: Session, rows: ClrStackFrame[], lines: SourceLines): void {
  const rt = clrRuntime(session);
  if (!rt.ilOffsetsAt) return;
  let leaf = true;
  for (const row of rows) {
    if (row.kind !== "managed" || row.methodDesc === null) continue;
    const ip = parseInt(row.ip, 16);
    const isLeaf = leaf;
    leaf = false;
    const il = tryOrUndefined(() => (isLeaf ? undefined : rt.ilOffsetsAt!(ip - 1)) ?? rt.ilOffsetsAt!(ip))?.find((x) => x >= 0);
    if (il === undefined) continue;
    const md = parseInt(row.methodDesc, 16);
    const src = tryOrUndefined(() => {
      const desc = rt.methodDesc(md);
      const module = rt.module(rt.methodTable(desc.methodTable).module);
      return lines.sourceLine({ base: module.base, path: module.path }, desc.token, il);
    });
    if (src) row.source = src;
  }
}

/**
 * Parameters and locals of each managed row from the DebugInfo contract's variable table, read
 * with the registers the native unwind recovered for the row's frame (matched by stack pointer);
 * local names from the PDB, as with the DAC.
 */
function valuesFromContracts(session: Session, stack: ThreadStack, options: StackOptions, lines: SourceLines): number {
  const native = session.process.threadByTid(stack.osId);
  if (!native) return 0;
  let answered = 0;
  const registersAt = new Map<number, RegisterSet>();
  for (const f of session.process.unwindThread(native).frames) if (!registersAt.has(f.sp)) registersAt.set(f.sp, f.registers);
  const rt = clrRuntime(session);
  let first = true;
  for (const row of stack.frames) {
    if (row.kind !== "managed" || row.methodDesc === null) continue;
    const isLeaf = first;
    first = false;
    const sp = parseInt(row.sp, 16);
    const registers = registersAt.get(sp);
    if (!registers) continue;
    const md = parseInt(row.methodDesc, 16);
    const ip = parseInt(row.ip, 16);
    const values = tryOrUndefined(() => {
      const meta = session.managed.names.moduleMetadata(rt.methodTable(rt.methodDesc(md).methodTable).module);
      return frameValues(rt, meta, md, ip, registers, sp, session.process.memory);
    });
    if (!values) continue;
    answered++;
    if (options.parameters) row.parameters = values.args.map((a) => clrStackValue(a, a.name || null));
    if (options.locals) {
      // Local names from the PDB's scopes around the IL offset SOS maps the frame to (its return address minus one but in the leaf).
      const names = tryOrUndefined(() => {
        const desc = rt.methodDesc(md);
        const module = rt.module(rt.methodTable(desc.methodTable).module);
        const il = (isLeaf ? rt.ilOffsetsAt?.(ip) : rt.ilOffsetsAt?.(ip - 1) ?? rt.ilOffsetsAt?.(ip))?.find((x) => x >= 0);
        return il === undefined ? undefined : lines.localNames({ base: module.base, path: module.path }, desc.token, il);
      });
      row.locals = values.locals.map((l, i) => clrStackValue(l, names?.get(i)?.name || null));
    }
  }
  return answered;
}

/** The methods of a walk's managed frames. */
function walkedMethods(walked: WalkedFrame[]): number[] {
  return walked.filter((f) => f.frameAddress === 0 && f.methodDesc !== 0).map((f) => f.methodDesc);
}

/** The SOS value of an argument or local: its first 1, 2, 4 or 8 bytes as a number, else 0. */
function clrStackValue(v: FrameValue, name: string | null): ClrStackValue {
  let value: string | null = null;
  if (v.bytes) {
    const b = v.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const n =
      b.length === 1 ? BigInt(dv.getUint8(0)) : b.length === 2 ? BigInt(dv.getUint16(0, true)) : b.length === 4 ? BigInt(dv.getUint32(0, true)) : b.length === 8 ? dv.getBigUint64(0, true) : 0n;
    value = hexPadded(n);
  }
  const location = !v.location ? null : v.location.kind === "register" ? "<CLR reg>" : hexAddress(v.location.address);
  return { name, location, value, bytes: v.bytes ? Buffer.from(v.bytes).toString("hex") : null };
}

/** The IL offset SOS maps to a source line: of the return address minus one except in the leaf frame. */
function lineIlOffset(f: WalkedFrame): number | undefined {
  return (f.ilOffsetsBeforeIp ?? f.ilOffsets)?.find((x) => x >= 0);
}

/**
 * Adds parameters, locals and source lines from the DAC's walk to managed rows, matched by
 * stack pointer (below an explicit Frame the contracts walk shows the Frame's call-site IP,
 * the DAC the return address, so IPs may differ).
 */
function annotate(dac: DetailedStackWalker, rows: ClrStackFrame[], walked: WalkedFrame[], options: StackOptions, lines: SourceLines, nameOf: (methodDesc: number) => string): void {
  const bySp = new Map<number, WalkedFrame>();
  for (const f of walked) if (f.frameAddress === 0 && !bySp.has(f.sp)) bySp.set(f.sp, f);
  for (const row of rows) {
    if (row.kind === "frame") {
      if (row.methodDesc !== null) continue; // named from the runtime's own Frame (frameRow)
      // SOS (ClrStack): the method an explicit Frame stands for, after the Frame (GetMethodDescPtrFromFrame).
      const md = dac.frameMethodDesc(parseInt(row.sp, 16));
      const name = md === 0 ? undefined : tryOrUndefined(() => nameOf(md));
      if (name !== undefined) {
        row.methodDesc = hexAddress(md);
        row.callSite = `${row.callSite} ${name}`;
      }
      continue;
    }
    const f = bySp.get(parseInt(row.sp, 16));
    if (!f) continue;
    const module = dac.methodModule(f.methodDesc);
    const token = f.methodToken;
    const il = lineIlOffset(f);
    if (options.lines && module && token !== undefined && il !== undefined) {
      const src = lines.sourceLine(module, token, il);
      if (src) row.source = src;
    }
    if (options.parameters) row.parameters = (f.args ?? []).map((a) => clrStackValue(a, a.name || null));
    if (options.locals) {
      // Local names come from the PDB's scopes around the frame's IL offset (the DAC gives none).
      const names = module && token !== undefined && il !== undefined ? lines.localNames(module, token, il) : new Map();
      row.locals = (f.locals ?? []).map((l, i) => clrStackValue(l, l.name || names.get(i)?.name || null));
    }
  }
}

export const clrStack = defineCommand<ClrStackResult>({
  names: ["clrstack"],
  summary: "SOS: managed call stack of the current thread (or of every managed thread with -all); -p parameters, -l locals, -a both",
  usage: "clrstack [-all] [-p] [-l] [-a] [-n]",
  // Source lines, parameters and locals come from the DAC; -n alone walks with the contracts.
  mayAskDac: (args) => !args.includes("-n") || args.some((a) => a === "-p" || a === "-l" || a === "-a"),
  run(session, args) {
    const sw = parseArgs(args, [], ["-all", "-p", "-l", "-a", "-n"]).switches;
    const options: StackOptions = { parameters: sw.has("-p") || sw.has("-a"), locals: sw.has("-l") || sw.has("-a"), lines: !sw.has("-n") };
    const all = sw.has("-all");
    const tid = session.process.thread(session.currentThread)?.tid;

    // The contracts backend walks when the descriptor lets it; else the DAC walks.
    let walker: ClrStackResult["walker"] = "contracts";
    let threads: ManagedThread[];
    let stacks: ClrStackResult["threads"] | undefined;
    let contractsError: unknown;
    const pick = (list: ManagedThread[]) => {
      const live = threadsInDump(session.process, list);
      if (all) return live;
      const current = live.find((t) => t.osId === tid);
      if (!current) {
        throw new CommandError(
          `thread ${tid} is not a managed thread; clrthreads lists them (select one with setthread -t TID)`,
          "not-managed-thread",
        );
      }
      return [current];
    };
    try {
      threads = pick(clrRuntime(session).threads());
      const names = session.managed.names;
      stacks = threads.map((t) => rowsOf(session, session.managed.stacks().contractsStack(t), (md) => names.methodSignature(md)));
    } catch (e) {
      if (!contractsCannotWalk(e)) throw e;
      contractsError = e;
      threads = [];
    }

    const wantDac = options.parameters || options.locals || options.lines || stacks === undefined;
    const dac: { runtime?: DetailedStackWalker; error?: string } = {};
    if (wantDac) {
      const d = session.managed.detailedStackWalker();
      dac.runtime = d.walker;
      dac.error = d.error;
    }
    if (stacks === undefined) {
      if (!dac.runtime) throw new NoRuntimeError(`${(contractsError as Error).message}; the DAC cannot walk the stacks either: ${dac.error}`);
      walker = "dac";
      threads = pick(dac.runtime.threads());
    }
    const result: ClrStackResult = { walker, threads: [] };
    if (!dac.runtime) {
      // Parameters from the runtime's DebugInfo variable table where it publishes one (.NET 11).
      const wantValues = options.parameters || options.locals;
      const lines = new SourceLines(session.process.memory, session.process.symbolDirs);
      let answered = 0;
      for (const t of stacks!) {
        if (options.lines) annotateFromContracts(session, t.frames, lines);
        if (wantValues) answered += valuesFromContracts(session, t, options, lines);
      }
      // Runtimes before .NET 11 publish no variable table: every value needs the DAC there.
      if (wantValues && answered === 0) result.note = `parameters and locals need the runtime's DAC: ${dac.error}`;
      result.threads = stacks!;
      return result;
    }
    const lines = new SourceLines(session.process.memory, session.process.symbolDirs);
    const walkOptions = { args: options.parameters, locals: options.locals, ilOffsets: options.lines || options.locals };
    // Method names as the rows of this walk have them: ours over metadata, or the DAC's.
    const nameOf = stacks ? (md: number) => session.managed.names.methodSignature(md) : (md: number) => dac.runtime!.methodName(md);
    const dacNameOf = (md: number) => dacMethodName(dac.runtime!, md);
    // Every thread's walk in one round trip to the DAC host; if the host dies in it, thread by
    // thread (the failing thread's call then says which walk killed it).
    let walks: ({ frames: WalkedFrame[] | undefined } | { error: Error })[] | undefined;
    try {
      walks = dac.runtime.stackWalks?.(threads.map((t) => t.osId), walkOptions);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
    }
    const rows: { stack: ClrStackResult["threads"][number]; walked: WalkedFrame[] }[] = [];
    threads.forEach((t, i) => {
      throwIfCancelled();
      let walked: WalkedFrame[] = [];
      try {
        const w = walks?.[i];
        if (w && "error" in w) throw w.error;
        walked = (w ? w.frames : dac.runtime!.stackWalk(t.osId, walkOptions)) ?? [];
      } catch (e) {
        // The contracts walk stands without the DAC's; the DAC walk has nothing else.
        if (!stacks || !(e instanceof ClrscopeError)) throw e;
        result.note = `thread 0x${t.osId.toString(16)}: no parameters, locals or source lines: ${e.message}`;
      }
      if (!stacks) dac.runtime!.prepare?.([], walkedMethods(walked), true);
      rows.push({ stack: stacks ? stacks[i]! : rowsOf(session, dacStack(session.process, t, walked), dacNameOf), walked });
    });
    // What annotate asks, for every row at once: one round trip per kind of question, not one per row.
    const frameRows = rows.flatMap((r) => r.stack.frames.filter((f) => f.kind === "frame" && f.methodDesc === null).map((f) => parseInt(f.sp, 16)));
    dac.runtime.prepare?.(frameRows, rows.flatMap((r) => walkedMethods(r.walked)), false);
    for (const { stack, walked } of rows) {
      annotate(dac.runtime, stack.frames, walked, options, lines, nameOf);
      result.threads.push(stack);
    }
    return result;
  },
  render(r) {
    const out: string[] = [];
    if (r.note) out.push(r.note);
    // Threads follow one another with no blank line between them, as in SOS.
    for (const t of r.threads) {
      out.push(r.threads.length > 1 ? `OS Thread Id: 0x${t.osId.toString(16)}` : `OS Thread Id: 0x${t.osId.toString(16)} (${t.dbg ?? "XXXX"})`);
      out.push("        Child SP               IP Call Site");
      for (const f of t.frames) {
        const sp = hexDigits(parseInt(f.sp, 16), 16).toUpperCase();
        const ip = hexDigits(parseInt(f.ip, 16), 16);
        const source = f.source ? ` [${f.source.file} @ ${f.source.line}]` : "";
        // SOS prints a blank after an explicit Frame's "[Name: address]", then the method it stands for, if any.
        const after = f.kind === "frame" && f.methodDesc === null ? " " : "";
        out.push(`${sp} ${f.kind === "managed" ? ip.toUpperCase() : ip} ${f.callSite}${after}${source}`);
        if (f.parameters === undefined && f.locals === undefined) continue;
        if (f.parameters?.length) {
          out.push("    PARAMETERS:");
          for (const p of f.parameters) out.push(`        ${renderValue(p, "parameter")}`);
        }
        if (f.locals?.length) {
          out.push("    LOCALS:");
          for (const l of f.locals) out.push(`        ${renderValue(l, "local")}`);
        }
        out.push("");
      }
    }
    // Not trimEnd: the last row may end with SOS's blank.
    while (out.at(-1) === "") out.pop();
    return out.join("\n");
  },
});

/**
 * SOS's layout: parameters `name (0xLOCATION) = 0xVALUE` (`(<CLR reg>)` in a register), locals
 * `0xLOCATION = 0xVALUE` (`<CLR reg> = ...`), `<no data>` without a value. A local with a name
 * from the PDB is shown like a parameter.
 */
function renderValue(v: ClrStackValue, kind: "parameter" | "local"): string {
  const location = v.location === null ? "" : v.location === "<CLR reg>" ? "<CLR reg>" : "0x" + hexDigits(parseInt(v.location, 16), 16).toUpperCase();
  const value = v.value ?? "<no data>";
  if (kind === "local" && v.name === null) return location ? `${location} = ${value}` : value;
  const head = [v.name, location ? `(${location})` : ""].filter(Boolean).join(" ");
  return head ? `${head} = ${value}` : value;
}
