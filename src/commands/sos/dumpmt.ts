// `dumpmt [-md] <MethodTable>` (SOS DumpMT, strike.cpp): a MethodTable's EEClass (or canonical
// MethodTable), module, name, token, sizes, flags and counts; with -md its MethodDesc table (every
// vtable slot, then the methods with slots of their own, as the DAC's slot enumerator lists them).
import { ClrscopeError, CommandError, MemoryNotInDump } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { typeNameOf } from "../../runtime/objects.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import type { JitKind } from "../../runtime/type-source.js";

export interface DumpmtMethod {
  /** The slot's code pointer (precode or native code). */
  entry: string;
  methodDesc: string;
  jit: JitKind;
  slot: number;
  /** SOS's method name with parameter types, e.g. "Hello.Program.SleepForever()". */
  name: string;
  token: string;
  /** The method's native code ("0x0" when it has none yet). */
  nativeCode: string;
}

export interface DumpmtResult {
  methodTable: string;
  parent: string;
  /** The type's EEClass (read through the canonical MethodTable for generic instantiations). */
  eeClass: string;
  /** Set when this MethodTable is not canonical (SOS prints "Canonical:" then). */
  canonical?: string;
  /**
   * The runtime (.NET 9+) hands SOS the canonical MethodTable in place of the EEClass: SOS prints
   * `Canonical:` (when not canonical) instead of `EEClass:`.
   */
  prefersCanonicalMethodTable: boolean;
  /** The module's managed AssemblyLoadContext object ("0x0": not created yet); null when the backend cannot tell (no row then). */
  assemblyLoadContext: string | null;
  module: string;
  name: string;
  /** TypeDef token, "0x02xxxxxx" (0x0 for arrays). */
  token: string;
  /** Full path of the module's file. */
  file: string;
  /** BaseSize as SOS shows it: the DAC takes the terminating NUL char off System.String's. */
  baseSize: number;
  /** MethodTable.BaseSize as stored. */
  rawBaseSize: number;
  componentSize: number;
  containsGCPointers: boolean;
  isCollectible: boolean;
  isFree: boolean;
  /** EEClass.NumMethods (SOS "Number of Methods"). */
  numMethods: number;
  numVirtuals: number;
  numVtableSlots: number;
  numInterfaces: number;
  /** Only with -md: every slot, vtable slots first, then the methods' own slots (entry "0x0": none yet). */
  methods?: DumpmtMethod[];
  /** The backend that answered: the contracts (data-contract descriptor) or the runtime's DAC. */
  backend: "contracts" | "dac";
  /**
   * Fields this backend does not know: "eeClass" (the DAC of .NET 9+ gives the canonical
   * MethodTable in its place, which SOS prints as "EEClass:" too), "isCollectible", "numVirtuals",
   * "numVtableSlots" (placeholders false / 0 then).
   */
  unavailable?: string[];
}

export { typeNameOf };

export const dumpmt = defineCommand<DumpmtResult>({
  names: ["dumpmt"],
  summary: "SOS: a MethodTable's type, sizes and counts; -md lists its methods",
  usage: "dumpmt [-md] METHODTABLE",
  mayAskDac: () => false,
  run(session, args) {
    const a = parseArgs(args.map((x) => (x.toLowerCase() === "-md" ? "-md" : x)), [], ["-md"]);
    if (a.positional.length !== 1) throw new CommandError("Missing MethodTable address (usage: dumpmt [-md] METHODTABLE)", "usage");
    const given = parseNumber(a.positional[0]!);
    const address = given - (given % 4); // SOS ignores the low two tag bits
    const src = session.managed.typeSource();
    let mt;
    try {
      mt = src.methodTable(address);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      throw new CommandError(`${hexAddress(address)} is not a MethodTable`, "not-a-methodtable");
    }
    if (!mt.isFree && (mt.eeClass === 0 || mt.module === 0)) throw new CommandError(`${hexAddress(address)} is not a MethodTable`, "not-a-methodtable");
    const unavailable: string[] = (["isCollectible", "numVirtuals", "numVtableSlots"] as const).filter((k) => mt[k] === null);
    if (mt.eeClassIsCanonicalMethodTable) unavailable.unshift("eeClass");
    const alc = mt.isFree ? undefined : src.assemblyLoadContext(address);
    const result: DumpmtResult = {
      methodTable: hexAddress(address),
      parent: hexAddress(mt.parent),
      eeClass: hexAddress(mt.eeClass),
      prefersCanonicalMethodTable: mt.prefersCanonicalMethodTable,
      assemblyLoadContext: alc === undefined ? null : hexAddress(alc),
      module: hexAddress(mt.module),
      name: mt.isFree ? "Free" : src.typeName(address) ?? `<Unloaded Type ${hexAddress(address)}>`,
      token: hexAddress(mt.token),
      file: mt.module ? src.modulePath(mt.module) : "",
      baseSize: mt.baseSize,
      rawBaseSize: mt.rawBaseSize,
      componentSize: mt.componentSize,
      containsGCPointers: mt.containsGCPointers,
      isCollectible: mt.isCollectible ?? false,
      isFree: mt.isFree,
      numMethods: mt.numMethods,
      numVirtuals: mt.numVirtuals ?? 0,
      numVtableSlots: mt.numVtableSlots ?? 0,
      numInterfaces: mt.numInterfaces,
      backend: src.backend,
    };
    if (unavailable.length > 0) result.unavailable = unavailable;
    if (mt.canonical !== undefined) result.canonical = hexAddress(mt.canonical);
    if (a.switches.has("-md") && !mt.isFree) {
      // Every slot, as the DAC's slot enumerator gives SOS, with or without an entry point yet.
      result.methods = src.slots(address).map((s) => {
        if (s.methodDesc === 0) return { entry: hexAddress(s.entry), methodDesc: hexAddress(0), jit: "NONE" as const, slot: s.slot, name: "<unknown>", token: hexAddress(0), nativeCode: hexAddress(0) };
        try {
          const md = src.methodDesc(s.methodDesc);
          return {
            entry: hexAddress(s.entry),
            methodDesc: hexAddress(s.methodDesc),
            jit: src.jitKind(md.nativeCode, md.module),
            slot: s.slot,
            name: src.methodSignature(s.methodDesc),
            token: hexAddress(md.token),
            nativeCode: hexAddress(md.nativeCode),
          };
        } catch (e) {
          if (!(e instanceof MemoryNotInDump)) throw e;
          return { entry: hexAddress(s.entry), methodDesc: hexAddress(s.methodDesc), jit: "NONE" as const, slot: s.slot, name: "<MethodDesc not in dump>", token: hexAddress(0), nativeCode: hexAddress(0) };
        }
      });
    }
    return result;
  },
  render(r) {
    if (r.isFree) return "Free MethodTable";
    const p = (h: string) => hexDigits(parseInt(h, 16), 16);
    // SOS prints pointers (Module, mdToken, the MethodDesc table) with %p, upper case on Linux.
    const P = (h: string) => p(h).toUpperCase();
    // TableOutput: a 20-wide left-aligned label column, then one space.
    const row = (label: string, value: string, width = 20) => `${label.padEnd(width)} ${value}`;
    const lines = [row("Parent:", p(r.parent))];
    if (!r.prefersCanonicalMethodTable) lines.push(row("EEClass:", P(r.eeClass)));
    else if (r.canonical) lines.push(row("Canonical:", p(r.canonical)));
    lines.push(
      row("Module:", P(r.module)),
      row("Name:", r.name),
      // Arrays have no TypeDef: SOS prints the DAC's mdTypeDefNil.
      row("mdToken:", P(r.token === "0x0" ? "0x2000000" : r.token)),
      row("File:", r.file || "Unknown Module"),
    );
    if (r.assemblyLoadContext !== null) {
      lines.push(row("AssemblyLoadContext:", r.assemblyLoadContext === "0x0" ? "Default ALC - The managed instance of this context doesn't exist yet." : p(r.assemblyLoadContext)));
    }
    lines.push(row("BaseSize:", "0x" + r.baseSize.toString(16)));
    if (r.componentSize !== 0) lines.push(row("ComponentSize:", "0x" + r.componentSize.toString(16)));
    lines.push(row("Has GC Pointers:", r.containsGCPointers ? "true" : "false"));
    lines.push(row("Number of Methods:", String(r.numMethods)));
    lines.push(row("Number of IFaces in IFaceMap:", String(r.numInterfaces), 29));
    if (r.methods) {
      lines.push("--------------------------------------", "MethodDesc Table");
      lines.push(`${"Entry".padStart(16)} ${"MethodDesc".padStart(16)} ${"JIT".padStart(6)} ${"Slot".padEnd(16)} Name`);
      for (const m of r.methods) {
        lines.push(`${P(m.entry)} ${P(m.methodDesc)} ${m.jit.padStart(6)} ${hexDigits(m.slot, 16).toUpperCase()} ${m.name}`);
      }
    }
    return lines.join("\n");
  },
});
