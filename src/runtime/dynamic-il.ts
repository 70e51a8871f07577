// A DynamicMethod's IL (SOS strike.cpp GatherDynamicInfo, sildasm.cpp DisassembleToken). A
// DynamicMethodDesc has no IL in any image: the runtime keeps it in managed objects. The DAC names
// the DynamicMethod object of a DynamicMethodDesc (GetMethodDescData's managedDynamicMethodObject;
// no data-contract descriptor publishes the resolver); from there the objects are followed by
// field name, as SOS does: DynamicMethod._resolver (m_resolver before) -> DynamicResolver.m_code
// (byte[]) and m_scope.m_tokens._items (object[], the token table, indexed by a token's RID).
import { ClrscopeError, CorruptDataError } from "../errors.js";
import { hex } from "../hex.js";
import { POINTER_SIZE } from "../dump/address-space.js";
import { decodeInstruction } from "../metadata/il.js";
import { T, TOKEN_USER_STRING, tokenRid, tokenTable } from "../metadata/tables.js";
import { MAX_DYNAMIC_IL_BYTES, MAX_DYNAMIC_IL_STRING_CHARS } from "../limits.js";
import type { DacRuntime } from "./dac/dac-runtime.js";
import type { DynamicMethodIl, DynamicTokenTarget, FieldValue } from "./model.js";

const TOKEN_OPERANDS = new Set(["InlineMethod", "InlineField", "InlineType", "InlineTok", "InlineString", "InlineSig"]);

/** An instance field's value by name (the object's type and its parents), undefined when it has none of that name. */
function fieldByName(dac: DacRuntime, object: number, names: string[]): FieldValue | undefined {
  const mt = dac.object(object).methodTable;
  for (const f of dac.fieldList(mt, object).fields) {
    if (f.isStatic) continue;
    const md = dac.moduleMetadata(f.module);
    if (md && names.includes(md.fieldName(tokenRid(f.token)))) return f.value;
  }
  return undefined;
}

/** A reference or native-integer field's value as an address; CorruptDataError when missing or of another kind. */
function addressField(dac: DacRuntime, object: number, ...names: string[]): number {
  const v = fieldByName(dac, object, names);
  if (v?.kind === "ref") return v.value;
  if (v?.kind === "pointer") return Number(BigInt(v.value));
  throw new CorruptDataError(`the object at ${hex(object)} has no field ${names.join(" or ")}`);
}

/** The DynamicMethod object of a MethodDesc, 0 when it is not a DynamicMethod's (LCG) MethodDesc. */
export function dynamicMethodObject(dac: DacRuntime, methodDesc: number): number {
  const d = dac.sos.methodDescData(methodDesc);
  return d.bIsDynamic ? d.managedDynamicMethodObject : 0;
}

/** The IL and token table of the DynamicMethod object `dynamicMethod`, with each token its IL uses resolved. */
export function readDynamicMethodIl(dac: DacRuntime, dynamicMethod: number): DynamicMethodIl {
  const resolver = addressField(dac, dynamicMethod, "_resolver", "m_resolver");
  const codeArray = addressField(dac, resolver, "m_code");
  const code = dac.object(codeArray);
  if (code.kind !== "array" || code.components > MAX_DYNAMIC_IL_BYTES) throw new CorruptDataError(`the IL array of DynamicResolver ${hex(resolver)} (${hex(codeArray)}) is not a byte[] of at most ${MAX_DYNAMIC_IL_BYTES} bytes`);
  const bytes = dac.tryRead(code.arrayData, code.components);
  if (!bytes) throw new CorruptDataError(`the IL of DynamicResolver ${hex(resolver)} (${code.components} bytes at ${hex(code.arrayData)}) is not in the dump`);
  const scope = addressField(dac, resolver, "m_scope");
  const list = addressField(dac, scope, "m_tokens");
  const tokenArray = addressField(dac, list, "_items");
  const table = dac.object(tokenArray);
  const element = (rid: number): number => {
    if (rid >= table.components) return 0;
    const p = dac.tryRead(table.arrayData + rid * POINTER_SIZE, POINTER_SIZE);
    return p ? Number(new DataView(p.buffer, p.byteOffset, POINTER_SIZE).getBigUint64(0, true)) : 0;
  };
  const tokens: DynamicMethodIl["tokens"] = [];
  const seen = new Set<number>();
  for (let pos = 0; pos < bytes.length; ) {
    const ins = decodeInstruction(bytes, pos);
    pos += ins.size;
    if (!TOKEN_OPERANDS.has(ins.opcode.operand) || typeof ins.operand !== "number") continue;
    const token = ins.operand >>> 0;
    if (seen.has(token)) continue;
    seen.add(token);
    tokens.push({ token, target: tokenTarget(dac, token, element(tokenRid(token))) });
  }
  return { dynamicMethod, resolver, code: bytes, tokenArray, tokens, backend: "dac" };
}

/** What the token table's element `object` stands for under `token`'s table (SOS DisassembleToken). */
function tokenTarget(dac: DacRuntime, token: number, object: number): DynamicTokenTarget {
  try {
    switch (tokenTable(token)) {
      case T.MethodDef: {
        // A boxed RuntimeMethodHandle: m_value is the method info, its m_handle the MethodDesc.
        const methodDesc = addressField(dac, addressField(dac, object, "m_value"), "m_handle");
        return { kind: "method", methodDesc, name: dac.sos.methodDescName(methodDesc) };
      }
      case T.TypeDef: {
        // A boxed RuntimeTypeHandle: m_type is the RuntimeType, its m_handle the MethodTable.
        const methodTable = addressField(dac, addressField(dac, object, "m_type"), "m_handle");
        return { kind: "type", methodTable, name: dac.methodTableName(methodTable) };
      }
      case T.Field:
      case T.MemberRef:
      case T.TypeRef:
      case T.StandAloneSig:
        return { kind: "object", address: object };
      case TOKEN_USER_STRING:
        return { kind: "string", value: dac.stringValue(object, MAX_DYNAMIC_IL_STRING_CHARS) };
      default:
        return { kind: "unknown" };
    }
  } catch (e) {
    if (!(e instanceof ClrscopeError)) throw e;
    return { kind: "unknown", reason: e.message };
  }
}
