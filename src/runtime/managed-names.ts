// Names of managed code for people: a MethodDesc becomes "Namespace.Type.Method" through the
// metadata of its module, read from the module's PE image in dump memory (EcmaMetadata
// contract: the image's CLI header locates the metadata). Instantiations come from the runtime:
// a TypeHandle's type arguments, array element types, TypeDescs and a method's instantiation are
// read through the RuntimeTypeSystem contract and named as the DAC names them (type-names.ts).
import type { Memory } from "../dump/address-space.js";
import { ClrscopeError, tryOrUndefined } from "../errors.js";
import { MetadataReader } from "../metadata/metadata.js";
import { loadedImageSource, PeImage } from "../metadata/pe.js";
import { decodeMethodSig, type MethodSig, type SigType } from "../metadata/signatures.js";
import { T, COL, tokenRid, tokenTable } from "../metadata/tables.js";
import { clrmdTypeName, dacMethodName, dacTypeName, shortParameterList, sigFormatParams, type RuntimeType } from "../metadata/type-names.js";
import type { ClrRuntime } from "./clr-runtime.js";
import type { DynamicMethodInfo } from "./contracts/runtime-type-system.js";
import { fileNameOf } from "../native/modules.js";
import { warn } from "../warnings.js";
import { hex } from "../hex.js";
import { MAX_RUNTIME_TYPE_NESTING } from "../limits.js";

/** ArrayMethodDesc function indexes 0-2 (ARRAY_FUNC_GET, _SET, _ADDRESS); the rest are constructors. */
const ARRAY_METHOD_NAMES = ["Get", "Set", "Address"];

export class ManagedNames {
  private readonly metadata = new Map<number, MetadataReader | null>();

  constructor(
    private readonly rt: ClrRuntime,
    private readonly memory: Memory,
  ) {}

  /** File name of a module's assembly (e.g. "System.Private.CoreLib.dll"). */
  moduleFileName(module: number): string {
    const path = this.rt.module(module).path;
    return fileNameOf(path) || `module 0x${module.toString(16)}`;
  }

  /**
   * The DAC's name of a type (dumpmt/dumpobj "Name:"): "Namespace.Outer+Inner",
   * "System.Collections.Generic.List`1[[System.Int32, System.Private.CoreLib]]", "System.Int32[,]";
   * undefined when a module's metadata is not in the dump.
   */
  typeName(typeHandle: number): string | undefined {
    const type = this.runtimeType(typeHandle);
    return type ? dacTypeName(type) : undefined;
  }

  /**
   * A TypeHandle (MethodTable, or TypeDesc tagged with bit 1) as a RuntimeType: the runtime gives
   * the instantiation, element type and kind, the metadata the names.
   */
  runtimeType(typeHandle: number, depth = 0): RuntimeType | undefined {
    if (depth > MAX_RUNTIME_TYPE_NESTING) return undefined;
    try {
      return this.readRuntimeType(typeHandle, depth);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      warn(`type ${hex(typeHandle)} is unreadable (${e.message}): names that use it are incomplete`);
      return undefined;
    }
  }

  private readRuntimeType(typeHandle: number, depth: number): RuntimeType | undefined {
    const shape = this.rt.typeNames().typeHandleShape(typeHandle);
    switch (shape.kind) {
      case "class": {
        const md = this.metadataOf(shape.module);
        if (!md) {
          // Metadata missing from the dump gives SOS's "<Unloaded Type>"; a module pointer that is no Module is damage.
          if (!this.isModule(shape.module)) warn(`type ${hex(typeHandle)} names ${hex(shape.module)} as its module, which is not a Module (damaged MethodTable)`);
          return undefined;
        }
        const rid = tokenRid(shape.token);
        if (tokenTable(shape.token) !== T.TypeDef || rid === 0 || rid > md.rowCount(T.TypeDef)) {
          warn(`type ${hex(typeHandle)} has the impossible TypeDef token ${hex(shape.token)} for its module (damaged MethodTable)`);
          return undefined;
        }
        if (shape.isGenericTypeDefinition && !this.isTypicalMethodTable(typeHandle, shape.module, rid)) {
          warn(`type ${hex(typeHandle)} claims to be the generic definition of TypeDef ${hex(shape.token)}, which its module maps elsewhere (damaged MethodTable): its instantiation is unknown`);
        }
        const args = shape.isGenericTypeDefinition ? [] : this.runtimeTypes(shape.instantiation, depth);
        if (!args) return undefined;
        // An instantiation has one argument per generic parameter of its TypeDef.
        const parameters = shape.isGenericTypeDefinition ? 0 : md.genericParams(shape.token).length;
        if (!shape.isGenericTypeDefinition && args.length !== parameters) {
          warn(`type ${hex(typeHandle)} has ${args.length} type arguments where TypeDef ${hex(shape.token)} has ${parameters} generic parameters (damaged MethodTable)`);
        }
        const type: RuntimeType = { kind: "named", md, token: shape.token, args };
        if (shape.primitiveElementType !== undefined) type.elementType = shape.primitiveElementType;
        return type;
      }
      case "array": {
        const elem = this.runtimeType(shape.elementType, depth + 1);
        if (!elem) return undefined;
        return shape.sz ? { kind: "szarray", elem } : { kind: "array", elem, rank: shape.rank };
      }
      case "ptr":
      case "byref": {
        const elem = this.runtimeType(shape.typeArg, depth + 1);
        return elem ? { kind: shape.kind, elem } : undefined;
      }
      case "valuetype":
        return this.runtimeType(shape.typeArg, depth + 1);
      case "var":
      case "mvar": {
        const md = this.metadataOf(shape.module);
        const rid = tokenRid(shape.token);
        if (!md || tokenTable(shape.token) !== T.GenericParam || rid === 0 || rid > md.rowCount(T.GenericParam)) return undefined;
        return { kind: shape.kind, index: md.cell(T.GenericParam, rid, COL.GenericParam.Number), name: md.genericParamName(rid) };
      }
      case "fnptr":
        return { kind: "fnptr" };
      case "unknown":
        return undefined;
    }
  }

  private runtimeTypes(handles: number[], depth: number): RuntimeType[] | undefined {
    const out: RuntimeType[] = [];
    for (const h of handles) {
      const type = this.runtimeType(h, depth + 1);
      if (!type) return undefined;
      out.push(type);
    }
    return out;
  }

  /**
   * SOS's full method name with parameter types ("Hello.Program.SleepForever()",
   * "System.Threading.Thread.Sleep(Int32)"), with the runtime's instantiations: shared generic
   * code names its canonical form
   * ("Outer+Inner`1[[System.__Canon, System.Private.CoreLib]].Park[[System.Int32, ...]](System.__Canon, Int32)"),
   * DynamicMethods "DynamicClass.<name>(...)" and IL stubs "ILStubClass.<name>(...)".
   */
  methodSignature(methodDesc: number): string {
    try {
      const dynamic = this.rt.typeNames().dynamicMethod(methodDesc);
      if (dynamic) return this.dynamicMethodName(dynamic.kind, dynamic.name, dynamic.signature);
      const array = this.rt.typeNames().arrayMethod(methodDesc);
      if (array) return this.arrayMethodName(methodDesc, array.funcIndex, array.signature);
      const md = this.rt.methodDesc(methodDesc);
      const owner = this.runtimeType(md.methodTable);
      const meta = this.metadataOf(this.rt.methodTable(md.methodTable).module);
      if (!owner || owner.kind !== "named" || !meta) return this.methodName(methodDesc);
      const names = this.rt.typeNames();
      const methodInst = names.isGenericMethodDefinition(methodDesc) ? [] : this.runtimeTypes(names.methodInstantiation(methodDesc), 0);
      if (!methodInst) return this.methodName(methodDesc);
      return dacMethodName(owner, meta, tokenRid(md.token), methodInst);
    } catch (e) {
      if (!(e instanceof ClrscopeError)) throw e;
      warn(`the signature of method ${hex(methodDesc)} is unreadable (${e.message}): named without it`);
      return this.methodName(methodDesc);
    }
  }

  /**
   * A method without metadata: the runtime names its type "DynamicClass" (DynamicMethod, LCG) or
   * "ILStubClass" (IL stubs) (TypeString::AppendMethodImpl). Its stored signature names types by
   * runtime TypeHandle (ELEMENT_TYPE_INTERNAL); one naming a type by metadata token has no module to
   * look it up in, so then the parameter list is left out rather than guessed.
   */
  private dynamicMethodName(kind: DynamicMethodInfo["kind"], name: string, signature: Uint8Array): string {
    const prefix = dynamicTypePrefix(kind);
    let sig: MethodSig;
    try {
      sig = decodeMethodSig(signature, `signature of dynamic method ${name}`);
    } catch (e) {
      if (e instanceof ClrscopeError) return prefix + name;
      throw e;
    }
    if (!sig.params.every(withoutTokens)) return prefix + name;
    return prefix + name + sigFormatParams(undefined, sig, { typeHandle: (h) => this.runtimeType(h) });
  }

  /**
   * An array type's runtime-made method, as the DAC names it ("System.Int32[,].Set(Int32, Int32,
   * Int32)"): the name from its function index (ArrayMethodDesc::GetMethodName), parameters from
   * the stored signature with ELEMENT_TYPE_VAR 0 standing for the element type.
   */
  private arrayMethodName(methodDesc: number, funcIndex: number, signature: Uint8Array): string {
    const md = this.rt.methodDesc(methodDesc);
    const owner = this.runtimeType(md.methodTable);
    if (!owner || (owner.kind !== "szarray" && owner.kind !== "array")) return this.methodName(methodDesc);
    const name = ARRAY_METHOD_NAMES[funcIndex] ?? ".ctor";
    const sig = decodeMethodSig(signature, `signature of array method ${name}`);
    return `${dacTypeName(owner)}.${name}${sigFormatParams(undefined, sig, { classInst: [owner.elem] })}`;
  }

  /**
   * dotnet-dump's pstacks name of a method: ClrMD's type name, the method's name, short parameter
   * types ("Scenarios.Outer+Inner<System.Int32>.Park(Int32, __Canon, String, Object[])",
   * "(dynamicClass).IL_STUB_PInvoke(Int32, Byte*, IntPtr)"). Generic methods are named by their own
   * name where dotnet-dump repeats their type's (docs/sos-differences.md). `signature`: the method's
   * methodSignature, when the caller has it.
   */
  parallelStacksName(methodDesc: number, signature = this.methodSignature(methodDesc)): string {
    const paren = signature.lastIndexOf("(");
    const params = paren < 0 ? "()" : shortParameterList(signature.slice(paren));
    const head = tryOrUndefined(() => this.parallelStacksMethod(methodDesc));
    return head === undefined ? (paren < 0 ? signature : signature.slice(0, paren)) + params : head + params;
  }

  /** "<ClrMD type>.<method name>" of a MethodDesc, undefined when its type or metadata is unknown. */
  private parallelStacksMethod(methodDesc: number): string | undefined {
    const dynamic = this.rt.typeNames().dynamicMethod(methodDesc);
    // ClrMD names the type of IL stubs and DynamicMethods "(dynamicClass)".
    if (dynamic) return `(dynamicClass).${dynamic.name}`;
    const md = this.rt.methodDesc(methodDesc);
    const owner = this.runtimeType(md.methodTable);
    if (!owner) return undefined;
    const array = this.rt.typeNames().arrayMethod(methodDesc);
    if (array) return `${clrmdTypeName(owner)}.${ARRAY_METHOD_NAMES[array.funcIndex] ?? ".ctor"}`;
    const meta = this.metadataOf(this.rt.methodTable(md.methodTable).module);
    const method = meta?.methodName(tokenRid(md.token));
    return method === undefined ? undefined : `${clrmdTypeName(owner)}.${method}`;
  }

  /** "Namespace.Type.Method" of a MethodDesc (SOS's form without the signature). */
  methodName(methodDesc: number): string {
    const dynamic = tryOrUndefined(() => this.rt.typeNames().dynamicMethod(methodDesc));
    if (dynamic) return dynamicTypePrefix(dynamic.kind) + dynamic.name;
    const md = this.rt.methodDesc(methodDesc);
    const type = this.typeName(md.methodTable);
    const array = tryOrUndefined(() => this.rt.typeNames().arrayMethod(methodDesc));
    if (array && type !== undefined) return `${type}.${ARRAY_METHOD_NAMES[array.funcIndex] ?? ".ctor"}`;
    const meta = this.metadataOf(this.rt.methodTable(md.methodTable).module);
    const method = meta ? meta.methodName(tokenRid(md.token)) : undefined;
    if (type === undefined || method === undefined) return `<MethodDesc 0x${methodDesc.toString(16)}, token 0x${md.token.toString(16)}>`;
    return `${type}.${method}`;
  }

  /** The metadata of a module's image in dump memory (undefined: dynamic module or pages missing). */
  moduleMetadata(module: number): MetadataReader | undefined {
    return this.metadataOf(module);
  }

  /** A generic type definition is the MethodTable its module's TypeDefToMethodTable map holds for its token. */
  private isTypicalMethodTable(methodTable: number, module: number, rid: number): boolean {
    return (
      tryOrUndefined(() => {
        const loader = this.rt.loader();
        return loader.lookupMapElement(loader.module(module).maps.typeDefToMethodTable, rid).value === methodTable;
      }) ?? false
    );
  }

  /** A Module points at its Assembly, which points back at it. */
  private isModule(module: number): boolean {
    return (
      tryOrUndefined(() => {
        const loader = this.rt.loader();
        const assembly = loader.module(module).assembly;
        return assembly !== 0 && loader.assembly(assembly).module === module;
      }) ?? false
    );
  }

  private metadataOf(module: number): MetadataReader | undefined {
    let md = this.metadata.get(module);
    if (md === undefined) {
      md = this.readMetadata(module) ?? null;
      this.metadata.set(module, md);
    }
    return md ?? undefined;
  }

  private readMetadata(module: number): MetadataReader | undefined {
    const { base, path } = this.rt.module(module);
    return readImageMetadata(this.memory, base, path);
  }
}

/**
 * The metadata of a module's PE image loaded at `base` in dump memory (undefined: no image, or
 * pages missing). The runtime maps ReadyToRun images section by section and IL-only ones flat.
 */
export function readImageMetadata(memory: Memory, base: number, path: string): MetadataReader | undefined {
  if (base === 0) return undefined;
  const source = loadedImageSource(memory, base);
  try {
    const layout = PeImage.detectLayout(source, path);
    return layout ? MetadataReader.fromPe(new PeImage(source, layout, path)) : undefined;
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}

/** The type part of a method without metadata: the runtime's fixed class names (TypeString::AppendMethodImpl). */
function dynamicTypePrefix(kind: DynamicMethodInfo["kind"]): string {
  return kind === "lcg" ? "DynamicClass." : kind === "ilstub" ? "ILStubClass." : "";
}

/** True when a signature type names no type by metadata token (those SigFormat would look up in a module). */
function withoutTokens(t: SigType): boolean {
  switch (t.kind) {
    case "prim":
    case "internal":
      return true;
    case "szarray":
    case "array":
    case "ptr":
    case "byref":
    case "modified":
      return withoutTokens(t.elem);
    default:
      return false;
  }
}

