// The interactive prompt: readline with persistent history and tab completion of command names.
import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { commandNames } from "../commands/registry.js";
import type { AnalyzeSession } from "./session.js";

const HISTORY_FILE = join(homedir(), ".clrscope_history");
const HISTORY_SIZE = 1000;

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, "utf8").split("\n").filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

export function complete(line: string): [string[], string] {
  const names = commandNames();
  const hits = names.filter((n) => n.startsWith(line.trimStart().toLowerCase()));
  return [hits.length > 0 ? hits : names, line];
}

export function runRepl(session: AnalyzeSession): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: "> ",
    history: loadHistory(),
    historySize: HISTORY_SIZE,
    completer: complete,
  });
  rl.prompt();
  return new Promise((resolve) => {
    rl.on("line", (line) => {
      const text = line.trim();
      if (text === "exit" || text === "quit" || text === "q") {
        rl.close();
        return;
      }
      if (text !== "") {
        try {
          appendFileSync(HISTORY_FILE, text + "\n");
        } catch {
          // history is a convenience; a read-only home must not break the session
        }
      }
      session.execute(text);
      rl.prompt();
    });
    rl.on("close", () => resolve());
  });
}
