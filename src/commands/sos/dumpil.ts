// `dumpil <MethodDesc>` (SOS, strike.cpp DumpIL; sildasm.cpp DecodeIL): the IL of a method as the
// image in memory holds it. MethodDesc -> MethodDef token and module (through its MethodTable);
// the token's RVA from the module's metadata; the RVA to an address in the loaded image
// (Loader.GetILAddr: flat images through the section table; through the DAC, GetILForModule); the
// body parsed there and printed
// by src/metadata/dumpil.ts. A DynamicMethod's MethodDesc: its IL from the managed DynamicResolver
// (runtime/dynamic-il.ts), as SOS prints it. DynamicMethod objects as the argument, `-i <IL
// address>` and profiler-rewritten IL are not supported yet.
//
// JSON: { methodDesc, name, token, module, rva, ilAddress, body: {...} | null, message?, lines }
// (`lines` are SOS's `IL_xxxx:` lines, with .try/.catch blocks; `instructions` gives offset and
// opcode of each instruction for programs).
import { CommandError } from "../../errors.js";
import { hexDigits } from "../../hex.js";
import { dumpDynamicIl, dumpIl } from "../../metadata/dumpil.js";
import { decodeInstruction, parseMethodBody } from "../../metadata/il.js";
import { defineCommand, hexAddress, parseArgs, parseNumber } from "../command.js";
import { methodDescWithType } from "../../runtime/type-source.js";
import { T, TOKEN_USER_STRING, tokenRid, tokenTable } from "../../metadata/tables.js";
import type { DynamicMethodIl, DynamicTokenTarget } from "../../runtime/model.js";

const TINY_FORMAT = 0x2;
const FAT_MORE_SECTS = 0x8;
const SECT_FAT_FORMAT = 0x40;
const SECT_MORE_SECTS = 0x80;
const MAX_SECTIONS = 1024;

export interface DumpIlResult {
  methodDesc: string;
  name: string;
  token: string;
  module: string;
  rva: number;
  ilAddress: string;
  body: { fat: boolean; maxStack: number; codeSize: number; localVarSigToken: string; initLocals: boolean; clauseCount: number } | null;
  /** Why there is no body to show (SOS's message). */
  message?: string;
  instructions: { offset: number; opcode: string }[];
  lines: string[];
  /**
   * A DynamicMethod's IL (SOS: "This is dynamic IL"): its objects, and each token with what it
   * stands for in the method's token table. `lines` are then the IL without header or clauses.
   */
  dynamic?: { dynamicMethod: number; resolver: number; tokenArray: number; codeSize: number; backend: string; tokens: { token: number; target: DynamicTokenTarget }[] };
}

/** SOS's operand text for a token of dynamic IL (sildasm.cpp DisassembleToken with a token table). */
export function dynamicTokenText(token: number, target: DynamicTokenTarget | undefined): string {
  const tok = token.toString(16);
  const pointer = (a: number) => hexDigits(a, 16).toUpperCase();
  switch (target?.kind) {
    case "method":
      return `${tok} ${target.name}`;
    case "type":
      return `${tok} "${target.name}"`;
    case "string":
      return `${tok} "${target.value}"`;
    case "object":
      return `${tok} (${pointer(target.address)})`;
    default: {
      const table = tokenTable(token);
      const known = table === T.MethodDef || table === T.TypeDef || table === T.Field || table === T.MemberRef || table === T.TypeRef || table === T.StandAloneSig || table === TOKEN_USER_STRING;
      if (!known) return `<unknown token type (token=${hexDigits(token, 8)})>`;
      // SOS prints whatever its failed reads left; clrscope says the token is unresolved and why.
      return `${tok} <unresolved${target?.reason ? `: ${target.reason}` : ""}>`;
    }
  }
}

function dynamicResult(result: DumpIlResult, il: DynamicMethodIl): DumpIlResult {
  const targets = new Map(il.tokens.map((t) => [t.token, t.target]));
  for (let pos = 0; pos < il.code.length; ) {
    const ins = decodeInstruction(il.code, pos);
    result.instructions.push({ offset: pos, opcode: ins.opcode.name });
    pos += ins.size;
  }
  result.lines = dumpDynamicIl(il.code, (tok) => dynamicTokenText(tok, targets.get(tok)));
  result.dynamic = { dynamicMethod: il.dynamicMethod, resolver: il.resolver, tokenArray: il.tokenArray, codeSize: il.code.length, backend: il.backend, tokens: il.tokens };
  return result;
}

/** The bytes of the method body at `address`: header, code and every extra data section. */
function readBody(read: (address: number, length: number) => Uint8Array, address: number): Uint8Array {
  const first = read(address, 1)[0]!;
  if ((first & 3) === TINY_FORMAT) return read(address, 1 + (first >> 2));
  const h = read(address, 12);
  const v = new DataView(h.buffer, h.byteOffset, 12);
  const flags = v.getUint16(0, true);
  const headerSize = (flags >> 12) * 4;
  let size = headerSize + v.getUint32(4, true);
  if (flags & FAT_MORE_SECTS) {
    for (let i = 0; i < MAX_SECTIONS; i++) {
      size = (size + 3) & ~3;
      const s = read(address + size, 4);
      const kind = s[0]!;
      const length = kind & SECT_FAT_FORMAT ? s[1]! | (s[2]! << 8) | (s[3]! << 16) : s[1]!;
      size += Math.max(length, 4);
      if (!(kind & SECT_MORE_SECTS)) break;
    }
  }
  return read(address, size);
}

export const dumpIlCommand = defineCommand<DumpIlResult>({
  names: ["dumpil"],
  summary: "SOS: the IL of a method (by MethodDesc)",
  usage: "dumpil METHODDESC",
  run(session, args) {
    const a = parseArgs(args, []);
    if (a.positional.length !== 1) throw new CommandError("usage: dumpil METHODDESC", "usage");
    const address = parseNumber(a.positional[0]!);
    const src = session.managed.typeSource();
    const { md, mt } = methodDescWithType(src, address);
    const result: DumpIlResult = {
      methodDesc: hexAddress(address),
      name: src.methodSignature(address),
      token: hexAddress(md.token),
      module: hexAddress(mt.module),
      rva: 0,
      ilAddress: hexAddress(0),
      body: null,
      instructions: [],
      lines: [],
    };
    if (md.classification === "Dynamic") {
      const dynamic = session.managed.dynamicMethodIl(address);
      if (dynamic?.error) throw new CommandError(`cannot read the IL of DynamicMethod ${hexAddress(address)}: ${dynamic.error}`, "no-il");
      if (dynamic?.il) return dynamicResult(result, dynamic.il);
    }
    const rid = tokenRid(md.token);
    if (rid === 0) {
      result.message = "This method has no IL body (e.g. IL stubs generated for P/Invoke or Reverse P/Invoke marshaling).";
      return result;
    }
    const meta = src.moduleMetadata(mt.module);
    if (!meta) throw new CommandError(`the image of module ${hexAddress(mt.module)} is not in the dump, so its IL cannot be read`, "no-image");
    result.rva = meta.methodRva(rid);
    const ilAddress = src.ilAddress(mt.module, result.rva);
    result.ilAddress = hexAddress(ilAddress);
    // SOS fails the command here (GetILAddress, then DumpIL's E_FAIL): a method without IL at that RVA.
    if (ilAddress === 0) throw new CommandError(`Unknown error in reading function IL\nUnable to retrieve IL for this method (ilAddr is ${hexDigits(0, 16)}).`, "no-il");
    const memory = session.process.memory;
    const body = parseMethodBody(readBody((at, n) => memory.read(at, n), ilAddress), `IL of MethodDesc ${hexAddress(address)}`);
    result.body = {
      fat: body.fat,
      maxStack: body.maxStack,
      codeSize: body.codeSize,
      localVarSigToken: hexAddress(body.localVarSigToken),
      initLocals: body.initLocals,
      clauseCount: body.clauses.length,
    };
    for (let pos = 0; pos < body.code.length; ) {
      const ins = decodeInstruction(body.code, pos);
      result.instructions.push({ offset: pos, opcode: ins.opcode.name });
      pos += ins.size;
    }
    result.lines = dumpIl(meta, body);
    return result;
  },
  render(r) {
    if (r.message) return r.message;
    if (r.dynamic) {
      return [
        "This is dynamic IL. Exception info is not reported at this time.",
        'If a token is unresolved, run "dumpobj <addr>" on the addr given',
        "in parenthesis. You can also look at the token table yourself, by",
        `running "dumparray ${hexDigits(r.dynamic.tokenArray, 16).toUpperCase()}".`,
        "",
        ...r.lines,
      ].join("\n");
    }
    // SOS's first line also names pImport, its metadata importer: an address inside dotnet-dump's
    // own process, which no dump holds (docs/sos-differences.md).
    const il = hexDigits(parseInt(r.ilAddress, 16), 16).toUpperCase();
    return [`ilAddr is ${il}`, `ilAddr = ${il}`, ...r.lines].join("\n");
  },
});
