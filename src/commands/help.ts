// `help [COMMAND]`: the command list, or one command's usage.
import { defineCommand } from "./command.js";
import { COMMANDS, findCommand } from "./registry.js";

export interface HelpResult {
  commands: { names: string[]; usage: string; summary: string }[];
}

export const help = defineCommand<HelpResult>({
  names: ["help", "?"],
  summary: "List commands, or show how to use one",
  usage: "help [COMMAND]",
  run(_session, args) {
    const list = args.length > 0 ? [findCommand(args.join(" ")).command] : COMMANDS;
    return { commands: list.map((c) => ({ names: c.names, usage: c.usage, summary: c.summary })) };
  },
  render(r) {
    if (r.commands.length === 1) {
      const c = r.commands[0]!;
      return `${c.summary}\nusage: ${c.usage}${c.names.length > 1 ? `\naliases: ${c.names.slice(1).join(", ")}` : ""}`;
    }
    const width = Math.max(...r.commands.map((c) => c.usage.length));
    return [...r.commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`), `  ${"exit".padEnd(width)}  Leave the session`].join("\n");
  },
});
