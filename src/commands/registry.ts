// The command table and dispatch: finds the command whose (possibly multi-word) name is the
// longest prefix of the line, runs it, and hands back its result object.
import { CommandError } from "../errors.js";
import { EXIT_COMMANDS, tokenize, type Command, type Session } from "./command.js";
import { backtrace } from "./native/backtrace.js";
import { disassembleCommand } from "./native/disassemble.js";
import { imageList } from "./native/image-list.js";
import { imageLookup } from "./native/image-lookup.js";
import { memoryRead } from "./native/memory-read.js";
import { registerRead } from "./native/register-read.js";
import { status } from "./native/status.js";
import { threadList } from "./native/thread-list.js";
import { setThread, threadSelect } from "./native/thread-select.js";
import { helpCommand } from "./help.js";
import { runtimeInfo } from "./runtime-info.js";
import { clrThreads } from "./sos/clrthreads.js";
import { ip2md } from "./sos/ip2md.js";
import { name2ee } from "./sos/name2ee.js";
import { dumpmt } from "./sos/dumpmt.js";
import { dumpmd } from "./sos/dumpmd.js";
import { clrStack } from "./sos/clrstack.js";
import { modules } from "./sos/modules.js";
import { clrModules } from "./sos/clrmodules.js";
import { dumpDomain } from "./sos/dumpdomain.js";
import { dumpModule } from "./sos/dumpmodule.js";
import { dumpIlCommand } from "./sos/dumpil.js";
import { pstacks } from "./sos/pstacks.js";
import { dumpobj } from "./sos/dumpobj.js";
import { printexception } from "./sos/printexception.js";

const help = helpCommand({ commands: () => COMMANDS, find: (line) => findCommand(line).command });

export const COMMANDS: Command<any>[] = [status, threadList, threadSelect, setThread, backtrace, registerRead, memoryRead, imageList, imageLookup, disassembleCommand, runtimeInfo, clrThreads, clrStack, pstacks, ip2md, modules, clrModules, dumpDomain, dumpModule, dumpIlCommand, name2ee, dumpmt, dumpmd, dumpobj, printexception, help];

export interface Invocation {
  command: Command<unknown>;
  args: string[];
}

export function findCommand(line: string): Invocation {
  const words = tokenize(line);
  let best: { command: Command<unknown>; length: number } | undefined;
  for (const command of COMMANDS) {
    for (const name of command.names) {
      const parts = name.split(" ");
      if (parts.length <= words.length && parts.every((p, i) => p === words[i]?.toLowerCase()) && parts.length > (best?.length ?? 0)) {
        best = { command, length: parts.length };
      }
    }
  }
  if (!best) throw new CommandError(`unknown command '${words[0] ?? ""}' (type 'help' for the list)`, "unknown-command");
  return { command: best.command, args: words.slice(best.length) };
}

export function runCommand(session: Session, line: string): { command: Command<unknown>; result: unknown } {
  const { command, args } = findCommand(line);
  return { command, result: command.run(session, args) };
}

/**
 * The options a command takes, as its usage string shows them (`clrstack [-all] [-p]` ->
 * -all, -p): the usage is the one list of options, so completion cannot drift from help.
 */
export function optionsOf(command: Command<unknown>): string[] {
  return [...new Set(command.usage.match(/(?<![\w-])-[A-Za-z][\w-]*/g) ?? [])];
}

export { EXIT_COMMANDS };

/** Every word sequence a user can type, for tab completion. */
export function commandNames(): string[] {
  return [...COMMANDS.flatMap((c) => c.names), ...EXIT_COMMANDS].sort();
}
