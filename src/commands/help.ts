// `help [COMMAND]`: the command list, one command's usage, or the commands under a first word
// (`help thread`: thread list, thread select, thread backtrace).
import { CommandError } from "../errors.js";
import { defineCommand, type Command } from "./command.js";
import { COMMANDS, EXIT_COMMANDS, findCommand } from "./registry.js";

export interface HelpResult {
  commands: { names: string[]; usage: string; summary: string }[];
  /** True for the whole list (plain `help`), which also names `exit`. */
  all: boolean;
}

/** The commands `help WORDS...` is about: the one they name, else those whose name they begin. */
function commandsFor(words: string[]): Command<unknown>[] {
  const line = words.join(" ");
  try {
    return [findCommand(line).command];
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
  }
  const prefix = `${line.toLowerCase()} `;
  const group = COMMANDS.filter((c) => c.names.some((n) => n.startsWith(prefix)));
  if (group.length === 0) throw new CommandError(`no command '${line}' (type 'help' for the list)`, "unknown-command");
  return group;
}

/** " (also: do)" for a command with aliases. */
const aliasesOf = (names: string[]): string => (names.length > 1 ? ` (also: ${names.slice(1).join(", ")})` : "");

export const help = defineCommand<HelpResult>({
  names: ["help", "?"],
  summary: "List commands, or show how to use one (help thread: the thread commands)",
  usage: "help [COMMAND]",
  run(_session, args) {
    const list = args.length > 0 ? commandsFor(args) : COMMANDS;
    return { commands: list.map((c) => ({ names: c.names, usage: c.usage, summary: c.summary })), all: args.length === 0 };
  },
  render(r) {
    if (r.commands.length === 1 && !r.all) {
      const c = r.commands[0]!;
      return `${c.summary}\nusage: ${c.usage}${c.names.length > 1 ? `\naliases: ${c.names.slice(1).join(", ")}` : ""}`;
    }
    const rows = r.commands.map((c) => [c.usage, `${c.summary}${aliasesOf(c.names)}`] as const);
    if (r.all) rows.push([EXIT_COMMANDS[0], `Leave the session (also: ${EXIT_COMMANDS.slice(1).join(", ")})`]);
    const width = Math.max(...rows.map(([usage]) => usage.length));
    return rows.map(([usage, text]) => `  ${usage.padEnd(width)}  ${text}`).join("\n");
  },
});
