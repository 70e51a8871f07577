// The .NET product version ("9.0.20") of the runtime in a dump when its path does not say it
// (self-contained apps carry libcoreclr.so in the app's own folder): System.Private.CoreLib's
// AssemblyInformationalVersion ("9.0.20+<commit>"), the same string RuntimeInformation
// .FrameworkDescription reports. CoreLib is found by its NT_FILE mapping and read from memory.
import { ClrscopeError } from "../errors.js";
import type { MetadataReader } from "../metadata/metadata.js";
import { readCompressed } from "../metadata/heaps.js";
import { COL, T, token, tokenRid, tokenTable } from "../metadata/tables.js";
import type { NativeProcess } from "../native/process.js";
import { readImageMetadata } from "./managed-names.js";

const ATTRIBUTE = "System.Reflection.AssemblyInformationalVersionAttribute";

/** The product version from CoreLib's metadata, or undefined when CoreLib or its attribute is not in the dump. */
export function coreLibProductVersion(process: NativeProcess): string | undefined {
  const mappings = process.core.files.filter((f) => f.path.endsWith("/System.Private.CoreLib.dll"));
  if (mappings.length === 0) return undefined;
  const base = Math.min(...mappings.map((f) => f.start));
  try {
    const md = readImageMetadata(process.memory, base, mappings[0]!.path);
    const text = md && informationalVersion(md);
    return text?.split("+")[0] || undefined;
  } catch (e) {
    if (e instanceof ClrscopeError) return undefined;
    throw e;
  }
}

/** The assembly's AssemblyInformationalVersionAttribute argument. */
function informationalVersion(md: MetadataReader): string | undefined {
  for (const ca of md.customAttributes(token(T.Assembly, 1))) {
    if (attributeTypeName(md, md.codedCell(T.CustomAttribute, ca, COL.CustomAttribute.Type)) !== ATTRIBUTE) continue;
    return serStringArgument(md.blob(md.cell(T.CustomAttribute, ca, COL.CustomAttribute.Value)));
  }
  return undefined;
}

/** Namespace.Name of the type declaring an attribute constructor (MethodDef or MemberRef on a TypeRef/TypeDef). */
function attributeTypeName(md: MetadataReader, ctor: number): string | undefined {
  let type: number;
  if (tokenTable(ctor) === T.MethodDef) type = token(T.TypeDef, md.typeOfMethod(tokenRid(ctor)));
  else if (tokenTable(ctor) === T.MemberRef) type = md.memberRefParent(tokenRid(ctor));
  else return undefined;
  if (tokenTable(type) === T.TypeDef) return `${md.typeDefNamespace(tokenRid(type))}.${md.typeDefName(tokenRid(type))}`;
  if (tokenTable(type) === T.TypeRef) return `${md.typeRefNamespace(tokenRid(type))}.${md.typeRefName(tokenRid(type))}`;
  return undefined;
}

/** ECMA-335 II.23.3: prolog 0x0001, then one SerString (compressed length, UTF-8; 0xff for null). */
function serStringArgument(blob: Uint8Array): string | undefined {
  if (blob.length < 3 || blob[0] !== 1 || blob[1] !== 0 || blob[2] === 0xff) return undefined;
  const { value: length, size } = readCompressed(blob, 2, blob.length, "AssemblyInformationalVersion");
  const start = 2 + size;
  return start + length <= blob.length ? new TextDecoder().decode(blob.subarray(start, start + length)) : undefined;
}

/** The runtime's product version: from its shared-framework path, else from CoreLib's metadata. */
export function runtimeProductVersion(process: NativeProcess): string | undefined {
  const rt = process.runtime;
  return rt ? (rt.version ?? coreLibProductVersion(process)) : undefined;
}
