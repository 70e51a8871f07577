// Replays named corruption-campaign variants in this process and prints each command's warnings,
// errors and summary (debugging a failure the campaign reports):
//   node dist/test/support/campaign-replay.js "full#20 zero page of notes" [COMMAND]...
import { statSync } from "node:fs";
import { newSession, type Session } from "../../src/commands/command.js";
import { openCoreDump } from "../../src/native/process.js";
import { scenarioDump } from "./dotnet-fixtures.js";
import { campaignInputs, generateVariants, locateTargets, CAMPAIGN_SEED, VARIANTS_PER_DUMP } from "./corruption-campaign.js";
import { runJob } from "./campaign-worker.js";

const [name, ...commands] = process.argv.slice(2);
const type = name!.startsWith("heap") ? "heap" : "full";
const { core, truth } = scenarioDump(type);
const p = openCoreDump(core);
const session: Session = newSession(p, { backend: "contracts" });
const inputs = campaignInputs(truth);
const variants = generateVariants(type, statSync(core).size, locateTargets(session, inputs), CAMPAIGN_SEED + (type === "heap" ? 1 : 0), VARIANTS_PER_DUMP);
p.close();
const v = variants.find((x) => x.name === name);
if (!v) throw new Error(`no variant ${name}`);
const report = runJob({ id: 0, dump: core, patches: v.patches, truncateAt: v.truncateAt, commands: commands.length ? commands : inputs.commands });
console.log(JSON.stringify({ variant: v, report }, null, 1));
