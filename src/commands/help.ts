// `help [COMMAND]`: the command list, one command's usage, or the commands under a first word
// (`help thread`: thread list, thread select, thread backtrace). The command table is handed in
// by registry.ts, which lists help itself: help does not import the table (no import circle).
import { CommandError } from "../errors.js";
import { defineCommand, EXIT_COMMANDS, type Command } from "./command.js";

/** What help reads of the command table. */
export interface CommandTable {
  commands(): Command<unknown>[];
  /** The command a line names (CommandError unknown-command when none). */
  find(line: string): Command<unknown>;
}

export interface HelpResult {
  commands: { names: string[]; usage: string; summary: string }[];
  /** True for the whole list (plain `help`), which also names `exit`. */
  all: boolean;
}

/** The commands `help WORDS...` is about: the one they name, else those whose name they begin. */
function commandsFor(table: CommandTable, words: string[]): Command<unknown>[] {
  const line = words.join(" ");
  try {
    return [table.find(line)];
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
  }
  const prefix = `${line.toLowerCase()} `;
  const group = table.commands().filter((c) => c.names.some((n) => n.startsWith(prefix)));
  if (group.length === 0) throw new CommandError(`no command '${line}' (type 'help' for the list)`, "unknown-command");
  return group;
}

/** " (also: do)" for a command with aliases. */
const aliasesOf = (names: string[]): string => (names.length > 1 ? ` (also: ${names.slice(1).join(", ")})` : "");

/** The help command over a command table. */
export const helpCommand = (table: CommandTable) => defineCommand<HelpResult>({
  names: ["help", "?"],
  summary: "List commands, or show how to use one (help thread: the thread commands)",
  usage: "help [COMMAND]",
  run(_session, args) {
    const list = args.length > 0 ? commandsFor(table, args) : table.commands();
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
