// A corruption-campaign worker: a child process that opens one altered dump at a time in-process
// (openCoreDump with alterations), runs the campaign's commands through the session machinery as
// the CLI would (warnings collected per command, text rendered, JSON serialized) and sends back
// each command's outcome reduced to what the campaign compares. The parent's watchdog kills it on a
// hang; a death by signal shows there too.
//   parent -> worker: CampaignJob     worker -> parent: CampaignReport
// The DAC is kept out (its child-process isolation lands separately): the contracts backend only.
import { ClrscopeError } from "../../src/errors.js";
import { newSession, type Session } from "../../src/commands/command.js";
import { runCommand } from "../../src/commands/registry.js";
import { openCoreDump } from "../../src/native/process.js";
import { withWarnings } from "../../src/warnings.js";
import { shownText, summarize, type CommandOutcome, type CampaignJob, type CampaignReport } from "./corruption-campaign.js";


export function runJob(job: CampaignJob): CampaignReport {
  const alterations = {
    patches: job.patches.map((p) => ({ offset: p.offset, bytes: Uint8Array.from(Buffer.from(p.hex, "hex")) })),
    truncateAt: job.truncateAt,
  };
  let process_;
  try {
    process_ = openCoreDump(job.dump, { alterations });
  } catch (e) {
    if (e instanceof ClrscopeError) return { id: job.id, openError: e.message, openWarnings: [], outcomes: [] };
    return { id: job.id, openError: `internal error: ${describe(e)}`, internal: true, openWarnings: [], outcomes: [] };
  }
  // The DAC is kept out of the corruption campaign: --backend contracts never starts it.
  const session: Session = newSession(process_, { backend: "contracts" });
  const outcomes: CommandOutcome[] = [];
  try {
    for (const line of job.commands) outcomes.push(runOne(session, line));
  } finally {
    process_.close();
  }
  return { id: job.id, openWarnings: [...process_.core.warnings], outcomes };
}

function runOne(session: Session, line: string): CommandOutcome {
  const warnings: string[] = [];
  try {
    const { command, result } = withWarnings(warnings, () => runCommand(session, line));
    // Both outputs a user can ask for: the text rendering and the JSON document.
    const text = command.render(result);
    const json = JSON.stringify({ command: line, result, warnings });
    const parsed = JSON.parse(json).result;
    return { command: line, warnings, summary: summarize(line, parsed), text: shownText(line, parsed), textLength: text.length };
  } catch (e) {
    if (e instanceof ClrscopeError) return { command: line, warnings, error: e.message };
    return { command: line, warnings, error: `internal error: ${describe(e)}`, internal: true };
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

// Forked by the campaign: answer each job (imported by campaign-replay.ts: stay passive).
if (process.send !== undefined) {
  process.on("message", (job: CampaignJob) => {
    process.send!(runJob(job));
  });
}
