// `pstacks` / `parallelstacks` (dotnet-dump's ParallelStacksCommand): every managed thread's
// stack merged into trees from the outermost frame, so that threads waiting in the same place
// collapse into one branch with a count. Rendered bottom-up like dotnet-dump: each branch's
// frames above its parent's, leaves headed by "~~~~ <thread ids>".
import { defineCommand, parseArgs, type Session } from "../command.js";
import { MAX_PSTACKS_THREAD_IDS } from "../../limits.js";
import { tryOrUndefined } from "../../errors.js";
import { shortParameterList } from "../../metadata/type-names.js";
import { dacMethodName } from "../../runtime/stacks.js";

export interface StackNode {
  /** The frame (method signature, SOS's clrstack form) this node stands for: stacks merge on it. */
  frame: string;
  /** The frame as dotnet-dump's pstacks names it: short parameter types, `(dynamicClass)` for stubs. */
  name: string;
  /** OS thread ids whose stacks pass through this frame (at this position from the root). */
  threads: number[];
  /** Callees: deeper frames. */
  children: StackNode[];
}

export interface PStacksResult {
  roots: StackNode[];
  threadCount: number;
}

/** dotnet-dump's indentation per level, and the width its frame counts are right-aligned in. */
const PADDING = 5;

interface StackFrameName {
  frame: string;
  name: string;
}

function mergeStacks(stacks: { osId: number; frames: StackFrameName[] }[]): StackNode[] {
  const roots: StackNode[] = [];
  for (const s of stacks) {
    let level = roots;
    // Outermost frame first: clrstack lists innermost first.
    for (const { frame, name } of [...s.frames].reverse()) {
      let node = level.find((n) => n.frame === frame);
      if (!node) {
        node = { frame, name, threads: [], children: [] };
        level.push(node);
      }
      node.threads.push(s.osId);
      level = node.children;
    }
  }
  return roots;
}

/** Every managed thread's managed frames, innermost first, from the model's stack walk (contracts, or the DAC's where the descriptor cannot walk). */
function managedStacks(session: Session): { osId: number; frames: StackFrameName[] }[] {
  const { walker, threads, dac } = session.managed.stacks().all();
  // The signature frames merge on, as clrstack names them: over metadata, or the DAC's when it walked.
  const signatureOf = walker === "dac" ? (md: number) => dacMethodName(dac!, md) : (md: number) => session.managed.names.methodSignature(md);
  const names = new Map<string, string>();
  const nameOf = (frame: string, md: number) => {
    let name = names.get(frame);
    if (name === undefined) {
      const opened = session.managed.openedNames;
      const viaMetadata = opened && md !== 0 ? tryOrUndefined(() => opened.parallelStacksName(md, frame)) : undefined;
      name = viaMetadata ?? shortenedSignature(frame);
      names.set(frame, name);
    }
    return name;
  };
  return threads
    .map((t) => ({
      osId: t.osId,
      frames: t.frames
        .filter((f) => f.kind === "managed")
        .map((f) => {
          const frame = signatureOf(f.methodDesc!);
          return { frame, name: nameOf(frame, f.methodDesc!) };
        }),
    }))
    .filter((s) => s.frames.length > 0);
}

/** A signature whose type is not known apart from its method (the DAC walk's names): its parameter types shortened. */
function shortenedSignature(signature: string): string {
  const paren = signature.lastIndexOf("(");
  return paren < 0 ? signature : signature.slice(0, paren) + shortParameterList(signature.slice(paren));
}

export const pstacks = defineCommand<PStacksResult & { allIds: boolean }>({
  names: ["pstacks", "parallelstacks"],
  summary: "Managed stacks of all threads merged into trees (dotnet-dump parallelstacks)",
  usage: "pstacks [-a]",
  mayAskDac: () => false,
  run(session, args) {
    const allIds = parseArgs(args, [], ["-a", "--allthreads"]).switches.size > 0;
    const stacks = managedStacks(session);
    return { roots: mergeStacks(stacks), threadCount: stacks.length, allIds };
  },
  render(r) {
    const lines: string[] = [];
    const ids = (threads: number[]) => {
      const shown = r.allIds ? threads : threads.slice(0, MAX_PSTACKS_THREAD_IDS);
      return shown.map((t) => t.toString(16)).join(",") + (shown.length < threads.length ? "..." : "");
    };
    // A chain of nodes with one child and the same threads prints as one block.
    const renderNode = (node: StackNode, depth: number) => {
      const chain = [node];
      let last = node;
      while (last.children.length === 1 && last.children[0]!.threads.length === last.threads.length) {
        last = last.children[0]!;
        chain.push(last);
      }
      // As dotnet-dump: " ~~~~ ids" and "{count,5} frame" after PADDING blanks per level.
      const pad = " ".repeat(PADDING * depth);
      const children = [...last.children].sort((a, b) => a.threads.length - b.threads.length);
      for (const c of children) renderNode(c, depth + 1);
      if (children.length === 0) lines.push(`${pad} ~~~~ ${ids(last.threads)}`);
      const count = String(node.threads.length).padStart(PADDING);
      for (const n of chain.reverse()) lines.push(`${pad}${count} ${n.name}`);
    };
    // dotnet-dump's blank lines: one before the first root, two after each root, one after the summary.
    lines.push("");
    for (const root of r.roots) {
      lines.push("________________________________________________");
      renderNode(root, 0);
      lines.push("", "");
    }
    lines.push(`==> ${r.threadCount} threads with ${r.roots.length} roots`, "");
    return lines.join("\n");
  },
});
