// SOS itself as the oracle for objects: clrscope's `do` (dumpobj) and `pe` (printexception) text,
// row by row against dotnet-dump's on the same dumps (.NET 10 full and heap dumps, .NET 9 and 8
// full dumps of test/targets/scenarios, and its .NET 11 dumps read with the data contracts alone;
// the .NET 10 full dump of hello). Which objects: SOS's own
// `dumpheap -short -mt` of every type the scenarios truth file names (generic instantiations, a
// derived generic type, nested generics, a struct, arrays, List, Dictionary, the app's exceptions,
// FieldKinds with one field of each primitive kind and statics, a derived exception with a field of
// its own, a pending async method's AsyncStateMachineBox and its SemaphoreSlim+TaskNode), hello's
// pinned objects, then every object those objects' fields reference as SOS lists them. dotnet-dump
// runs three times per dump (types -> objects -> referenced objects), each run cached
// (test/support/sos-oracle.ts); clrscope once. Only what docs/sos-differences.md lists is
// normalised, and each test says what.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dotnetDump, hasDotnet, scenarioDump, type DotnetDump, type ScenarioTruth, type Truth } from "../support/dotnet-fixtures.js";
import { clrscopeTexts, sosAnswers, type SosAnswer } from "../support/sos-oracle.js";

const skip = hasDotnet() ? false : "no dotnet SDK on PATH";

/** Objects of each type dumped (SOS's dumpheap order). */
const OBJECTS_PER_TYPE = 2;
/** Referenced objects dumped at most per dump (each is one more command in both tools). */
const MAX_REFERENCED_OBJECTS = 80;

interface DumpCase {
  label: string;
  dump: () => DotnetDump<unknown>;
  /**
   * SOS's `do` dies after its MethodTable line on this dump (docs/sos-differences.md): our field
   * rows are then compared with SOS's on this full dump of the same build.
   */
  sosDumpobjCrashes?: { fullDump: DumpCase; minCompared: number };
  /** Also compare `do` through the DAC alone (`--backend dac`: the DAC's object reader, as on .NET 8). */
  alsoDacBackend?: boolean;
  /** clrscope's options (.NET 11: `--backend contracts`, the runtime's FieldDescs with no DAC). */
  args?: string[];
}

const net10Full: DumpCase = { label: "scenarios, .NET 10 full dump", dump: () => scenarioDump("full"), alsoDacBackend: true };
const helloFull: DumpCase = { label: "hello, .NET 10 full dump", dump: () => dotnetDump("hello", "full") };

const dumps: DumpCase[] = [
  net10Full,
  { label: "scenarios, .NET 10 heap dump", dump: () => scenarioDump("heap"), sosDumpobjCrashes: { fullDump: net10Full, minCompared: 15 } },
  { label: "scenarios, .NET 9 full dump", dump: () => scenarioDump("full", "net9.0") },
  { label: "scenarios, .NET 8 full dump", dump: () => scenarioDump("full", "net8.0") },
  { label: "scenarios, .NET 11 full dump, data contracts alone", dump: () => scenarioDump("full", "net11.0"), args: ["--backend", "contracts"] },
  { label: "scenarios, .NET 11 heap dump, data contracts alone", dump: () => scenarioDump("heap", "net11.0"), args: ["--backend", "contracts"] },
  helloFull,
  { label: "hello, .NET 10 heap dump", dump: () => dotnetDump("hello", "heap"), sosDumpobjCrashes: { fullDump: helloFull, minCompared: 3 } },
];

const hex = (address: string) => address.replace(/^0x/, "").toLowerCase();

/** SOS's answer, which must not be an error (an error on both sides would compare equal). */
function answered(answer: SosAnswer | undefined): string[] {
  assert.ok(answer, "dotnet-dump gave no answer");
  assert.equal(answer.failed, false, `SOS ${answer.command} failed${answer.crashed ? ` (${answer.crashed})` : ""}:\n${answer.lines.join("\n")}`);
  return answer.lines;
}

/** A DisplayFields row: MT, Field, Offset, Type (20), VT (4), Attr (8), then Value and Name. */
const FIELD_ROW = /^([0-9a-f]{16}) ([0-9a-f]{8}) ([ 0-9a-f]{8}) (.{20}) ( {0,2}Yes| {2}No) ( *(?:instance|static|TLstatic)) (.*)$/;

/** Addresses of the objects `do` output's reference fields point at (SOS's rows: VT No, not null). */
function referencedObjects(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const m = FIELD_ROW.exec(line);
    if (!m || m[5]!.trim() !== "No") continue;
    const value = /^([0-9a-f]{16}) \S+$/.exec(m[7]!)?.[1];
    if (value && !/^0+$/.test(value)) out.push(value.replace(/^0+/, ""));
  }
  return out;
}

interface Plan {
  /** `do ADDRESS` and `pe ADDRESS` commands, in order. */
  commands: string[];
  sos: Map<string, SosAnswer>;
  /** The exception objects `pe` is asked about. */
  exceptions: string[];
}

/** The objects to dump on a scenarios dump: SOS's dumpheap of every truth type, the kept exception. */
function scenarioObjects(core: string, truth: ScenarioTruth, perType: number): { objects: string[]; exceptions: string[] } {
  const types = [...truth.methodTables, ...truth.sosObjectTypes];
  const heapCommands = types.map((t) => `dumpheap -short -mt ${hex(t.methodTable)}`);
  const heap = sosAnswers(core, heapCommands);
  const objects: string[] = [];
  for (const command of heapCommands) objects.push(...answered(heap.get(command)).filter((l) => /^[0-9a-f]+$/.test(l)).slice(0, perType));
  // Every object of the app's exception types (ScenarioFailure, CodedFailure) for pe.
  const exceptionTypes = types.filter((t) => /^Scenarios\.\w+Failure$/.test(t.name)).map((t) => `dumpheap -short -mt ${hex(t.methodTable)}`);
  const exceptions = exceptionTypes.flatMap((command) => answered(heap.get(command)).filter((l) => /^[0-9a-f]+$/.test(l)));
  return { objects: [...new Set([...objects, hex(truth.exception.address)])], exceptions: [...new Set([...exceptions, hex(truth.exception.address)])] };
}

/** Both tools' plan for one dump: the objects, SOS's answers for them and for what they reference. */
function plan(c: DumpCase): Plan {
  const { core, truth } = c.dump();
  let objects: string[];
  let exceptions: string[];
  if ("sosObjectTypes" in (truth as object)) {
    const s = scenarioObjects(core, truth as ScenarioTruth, c.sosDumpobjCrashes ? 1 : OBJECTS_PER_TYPE);
    ({ objects, exceptions } = s);
  } else {
    const o = (truth as Truth).objects;
    objects = [hex(o.string.address), hex(o.exception.address), hex(o.fields.address)];
    exceptions = [hex(o.exception.address)];
  }
  // A few with -nofields too (no Fields section).
  const first = [...objects.map((a) => `do ${a}`), ...objects.slice(0, 3).map((a) => `do -nofields ${a}`), ...exceptions.map((a) => `pe ${a}`)];
  const sos = sosAnswers(core, first);
  // SOS's pe names the inner exception: pe that too.
  const inner = [...sos.values()].flatMap((a) => a.lines.map((l) => /^InnerException: .*Use printexception ([0-9A-F]{16}) /.exec(l)?.[1]?.toLowerCase().replace(/^0+/, "")).filter((x): x is string => !!x));
  const referenced = c.sosDumpobjCrashes ? [] : [...new Set([...sos.values()].flatMap((a) => referencedObjects(a.lines)))].filter((a) => !objects.includes(a)).slice(0, MAX_REFERENCED_OBJECTS);
  const second = [...referenced.map((a) => `do ${a}`), ...inner.filter((a) => !exceptions.includes(a)).map((a) => `pe ${a}`)];
  for (const [command, answer] of sosAnswers(core, second)) sos.set(command, answer);
  return { commands: [...first, ...second], sos, exceptions };
}

/**
 * pe's text with the body of `StackTrace (generated):` replaced by a marker when SOS decoded it
 * (a table): clrscope cannot decode it on these runtimes (docs/sos-differences.md). "<none>"
 * stays, and so does everything else.
 */
function withoutGeneratedStackTrace(lines: string[]): string[] {
  const at = lines.indexOf("StackTrace (generated):");
  if (at < 0 || lines[at + 1] === "<none>") return lines;
  const blank = lines.indexOf("", at + 1);
  assert.ok(blank > at, `no blank line ends the generated stack trace:\n${lines.join("\n")}`);
  return [...lines.slice(0, at + 1), "<generated stack trace>", ...lines.slice(blank)];
}

/** A field row without what differs between two processes of the same build: the MT column and the value. */
function rowShape(line: string): string {
  const m = FIELD_ROW.exec(line);
  if (!m) return line;
  const name = m[7]!.split(" ").at(-1);
  return `${m[2]} ${m[3]} ${m[4]} ${m[5]} ${m[6]} ${name}`;
}

/** `do` text as its Name line and the shapes of its field rows (per-thread values and addresses left out). */
function dumpobjShape(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith("Name:") || FIELD_ROW.test(l)).map(rowShape);
}

/** SOS's `do` answers on a dump as shapes (dumpobjShape) by their Name line. */
function shapesByName(p: Plan): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const command of p.commands.filter((x) => x.startsWith("do ") && !x.startsWith("do -nofields "))) {
    const lines = answered(p.sos.get(command));
    if (!out.has(lines[0]!)) out.set(lines[0]!, dumpobjShape(lines));
  }
  return out;
}

for (const c of dumps) {
  describe(`SOS oracle for objects (dotnet-dump) on ${c.label}`, { skip, timeout: 900_000 }, () => {
    let both: { plan: Plan; ours: Map<string, string[]> } | undefined;
    const answers = () => {
      if (!both) {
        const p = plan(c);
        both = { plan: p, ours: clrscopeTexts(c.dump().core, p.commands, c.args ?? []) };
      }
      return both;
    };

    if (!c.sosDumpobjCrashes) {
      test("do: every line of every object equals SOS's", (t) => {
        const { plan: p, ours } = answers();
        const dumpobjs = p.commands.filter((x) => x.startsWith("do "));
        let fieldRows = 0;
        for (const command of dumpobjs) {
          const expected = answered(p.sos.get(command));
          assert.ok(expected[0]?.startsWith("Name:"), `SOS ${command}:\n${expected.join("\n")}`);
          fieldRows += expected.filter((l) => FIELD_ROW.test(l)).length;
          assert.deepEqual(ours.get(command), expected, command);
        }
        // Guards against a vacuous run: many objects and rows, and the cases this test is for.
        assert.ok(dumpobjs.length >= 3 && fieldRows >= 10, `${dumpobjs.length} objects, ${fieldRows} field rows compared`);
        t.diagnostic(`${dumpobjs.length} do commands, ${fieldRows} field rows equal SOS's`);
        if (c.label.startsWith("scenarios")) {
          assert.ok(dumpobjs.length >= 40, `${dumpobjs.length} objects compared`);
          const all = dumpobjs.flatMap((x) => p.sos.get(x)!.lines);
          for (const [what, re] of [
            ["GenericDerived<int>'s own field after its base's", /System\.Int32 +Yes instance +0 Value$/],
            ["CodedFailure's own field", / instance +17 Code$/],
            ["a double field", / instance 3\.250000 Ratio$/],
            ["a char field", / instance +42 Letter$/],
            ["a static with an offset past the header", / static +42 StaticCount$/],
            ["the async box's state machine", / StateMachine$/],
            ["a thread static", /TLstatic +t_currentTask$/],
          ] as const) {
            assert.ok(all.some((l) => re.test(l)), `no SOS row for ${what} (${re})`);
          }
        }
      });
    } else {
      test("do: SOS dies after the MethodTable line; those lines equal ours, and our field rows equal SOS's on the full dump of the same build", (t) => {
        const { plan: p, ours } = answers();
        const fullDumpShapes = shapesByName(plan(c.sosDumpobjCrashes!.fullDump));
        const dumpobjs = p.commands.filter((x) => x.startsWith("do "));
        let compared = 0;
        for (const command of dumpobjs) {
          const answer = p.sos.get(command)!;
          assert.ok(answer.crashed, `SOS's ${command} no longer crashes on ${c.label}: compare it line by line (and update docs/sos-differences.md)`);
          const mine = ours.get(command)!;
          assert.deepEqual(mine.slice(0, answer.lines.length), answer.lines, `${command}: the lines SOS printed before it died`);
          const full = fullDumpShapes.get(mine[0]!);
          if (!full || command.startsWith("do -nofields ")) continue;
          assert.deepEqual(dumpobjShape(mine), full, `${command}: field rows (but MT and value) as SOS's for ${mine[0]} on the full dump`);
          compared++;
        }
        assert.ok(compared >= c.sosDumpobjCrashes!.minCompared, `${compared} objects compared with the full dump's rows`);
        t.diagnostic(`${dumpobjs.length} do commands: SOS's lines before its crash equal ours; ${compared} objects' field rows equal SOS's on the full dump`);
      });
    }

    if (c.alsoDacBackend) {
      test("do with --backend dac (the DAC's object reader): every line equals SOS's", () => {
        const { plan: p } = answers();
        const dumpobjs = p.commands.filter((x) => x.startsWith("do "));
        const ours = clrscopeTexts(c.dump().core, dumpobjs, ["--backend", "dac"]);
        for (const command of dumpobjs) assert.deepEqual(ours.get(command), answered(p.sos.get(command)), command);
      });
    }

    test("pe: every line equals SOS's but the generated stack trace's rows", (t) => {
      const { plan: p, ours } = answers();
      const pes = p.commands.filter((x) => x.startsWith("pe "));
      assert.ok(pes.length >= 1, "exceptions to compare");
      for (const command of pes) {
        const expected = answered(p.sos.get(command));
        assert.ok(expected[0]?.startsWith("Exception object: "), `SOS ${command}:\n${expected.join("\n")}`);
        assert.deepEqual(withoutGeneratedStackTrace(ours.get(command)!), withoutGeneratedStackTrace(expected), command);
      }
      t.diagnostic(`${pes.length} exceptions equal SOS's`);
    });
  });
}
