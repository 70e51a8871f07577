// The ECMA-335 metadata table schema (Partition II, 22 and 24.2.6) as data: every table with its
// columns in storage order, and the coded-index kinds. The reader derives row sizes, column
// offsets and index widths from this at open time, so no table layout is typed twice.

/** A column's storage: fixed-size constants, heap indexes, table indexes, coded indexes. */
export type ColumnType =
  | "u8p" // a 1-byte constant followed by a padding byte (Constant.Type)
  | "u16"
  | "u32"
  | "str"
  | "guid"
  | "blob"
  | { table: number } // simple index (1-based row number)
  | { coded: CodedKind }; // coded index (tag in the low bits)

/** Table numbers (the high byte of a token). */
export const T = {
  Module: 0x00,
  TypeRef: 0x01,
  TypeDef: 0x02,
  FieldPtr: 0x03,
  Field: 0x04,
  MethodPtr: 0x05,
  MethodDef: 0x06,
  ParamPtr: 0x07,
  Param: 0x08,
  InterfaceImpl: 0x09,
  MemberRef: 0x0a,
  Constant: 0x0b,
  CustomAttribute: 0x0c,
  FieldMarshal: 0x0d,
  DeclSecurity: 0x0e,
  ClassLayout: 0x0f,
  FieldLayout: 0x10,
  StandAloneSig: 0x11,
  EventMap: 0x12,
  EventPtr: 0x13,
  Event: 0x14,
  PropertyMap: 0x15,
  PropertyPtr: 0x16,
  Property: 0x17,
  MethodSemantics: 0x18,
  MethodImpl: 0x19,
  ModuleRef: 0x1a,
  TypeSpec: 0x1b,
  ImplMap: 0x1c,
  FieldRVA: 0x1d,
  EncLog: 0x1e,
  EncMap: 0x1f,
  Assembly: 0x20,
  AssemblyProcessor: 0x21,
  AssemblyOS: 0x22,
  AssemblyRef: 0x23,
  AssemblyRefProcessor: 0x24,
  AssemblyRefOS: 0x25,
  File: 0x26,
  ExportedType: 0x27,
  ManifestResource: 0x28,
  NestedClass: 0x29,
  GenericParam: 0x2a,
  MethodSpec: 0x2b,
  GenericParamConstraint: 0x2c,
} as const;
export type TableName = keyof typeof T;

/** Token types that are not tables: user strings (#US offsets) and the nil token. */
export const TOKEN_USER_STRING = 0x70;

/** Coded-index kinds: which tables a tag selects (-1: a tag value the spec leaves unused). */
export const CODED = {
  TypeDefOrRef: [T.TypeDef, T.TypeRef, T.TypeSpec],
  HasConstant: [T.Field, T.Param, T.Property],
  HasCustomAttribute: [
    T.MethodDef, T.Field, T.TypeRef, T.TypeDef, T.Param, T.InterfaceImpl, T.MemberRef, T.Module, T.DeclSecurity,
    T.Property, T.Event, T.StandAloneSig, T.ModuleRef, T.TypeSpec, T.Assembly, T.AssemblyRef, T.File, T.ExportedType,
    T.ManifestResource, T.GenericParam, T.GenericParamConstraint, T.MethodSpec,
  ],
  HasFieldMarshal: [T.Field, T.Param],
  HasDeclSecurity: [T.TypeDef, T.MethodDef, T.Assembly],
  MemberRefParent: [T.TypeDef, T.TypeRef, T.ModuleRef, T.MethodDef, T.TypeSpec],
  HasSemantics: [T.Event, T.Property],
  MethodDefOrRef: [T.MethodDef, T.MemberRef],
  MemberForwarded: [T.Field, T.MethodDef],
  Implementation: [T.File, T.AssemblyRef, T.ExportedType],
  CustomAttributeType: [-1, -1, T.MethodDef, T.MemberRef, -1],
  ResolutionScope: [T.Module, T.ModuleRef, T.AssemblyRef, T.TypeRef],
  TypeOrMethodDef: [T.TypeDef, T.MethodDef],
} as const satisfies Record<string, readonly number[]>;
export type CodedKind = keyof typeof CODED;

/** Tag width of a coded index: enough bits for its table list. */
export function codedBits(kind: CodedKind): number {
  const n = CODED[kind].length;
  let bits = 0;
  while (1 << bits < n) bits++;
  return bits;
}

const idx = (table: number): ColumnType => ({ table });
const coded = (kind: CodedKind): ColumnType => ({ coded: kind });

/** Every table's columns in storage order, keyed by column name. */
export const SCHEMA = {
  Module: { Generation: "u16", Name: "str", Mvid: "guid", EncId: "guid", EncBaseId: "guid" },
  TypeRef: { ResolutionScope: coded("ResolutionScope"), Name: "str", Namespace: "str" },
  TypeDef: { Flags: "u32", Name: "str", Namespace: "str", Extends: coded("TypeDefOrRef"), FieldList: idx(T.Field), MethodList: idx(T.MethodDef) },
  FieldPtr: { Field: idx(T.Field) },
  Field: { Flags: "u16", Name: "str", Signature: "blob" },
  MethodPtr: { Method: idx(T.MethodDef) },
  MethodDef: { RVA: "u32", ImplFlags: "u16", Flags: "u16", Name: "str", Signature: "blob", ParamList: idx(T.Param) },
  ParamPtr: { Param: idx(T.Param) },
  Param: { Flags: "u16", Sequence: "u16", Name: "str" },
  InterfaceImpl: { Class: idx(T.TypeDef), Interface: coded("TypeDefOrRef") },
  MemberRef: { Class: coded("MemberRefParent"), Name: "str", Signature: "blob" },
  Constant: { Type: "u8p", Parent: coded("HasConstant"), Value: "blob" },
  CustomAttribute: { Parent: coded("HasCustomAttribute"), Type: coded("CustomAttributeType"), Value: "blob" },
  FieldMarshal: { Parent: coded("HasFieldMarshal"), NativeType: "blob" },
  DeclSecurity: { Action: "u16", Parent: coded("HasDeclSecurity"), PermissionSet: "blob" },
  ClassLayout: { PackingSize: "u16", ClassSize: "u32", Parent: idx(T.TypeDef) },
  FieldLayout: { Offset: "u32", Field: idx(T.Field) },
  StandAloneSig: { Signature: "blob" },
  EventMap: { Parent: idx(T.TypeDef), EventList: idx(T.Event) },
  EventPtr: { Event: idx(T.Event) },
  Event: { Flags: "u16", Name: "str", EventType: coded("TypeDefOrRef") },
  PropertyMap: { Parent: idx(T.TypeDef), PropertyList: idx(T.Property) },
  PropertyPtr: { Property: idx(T.Property) },
  Property: { Flags: "u16", Name: "str", Type: "blob" },
  MethodSemantics: { Semantics: "u16", Method: idx(T.MethodDef), Association: coded("HasSemantics") },
  MethodImpl: { Class: idx(T.TypeDef), MethodBody: coded("MethodDefOrRef"), MethodDeclaration: coded("MethodDefOrRef") },
  ModuleRef: { Name: "str" },
  TypeSpec: { Signature: "blob" },
  ImplMap: { MappingFlags: "u16", MemberForwarded: coded("MemberForwarded"), ImportName: "str", ImportScope: idx(T.ModuleRef) },
  FieldRVA: { RVA: "u32", Field: idx(T.Field) },
  EncLog: { Token: "u32", FuncCode: "u32" },
  EncMap: { Token: "u32" },
  Assembly: {
    HashAlgId: "u32", MajorVersion: "u16", MinorVersion: "u16", BuildNumber: "u16", RevisionNumber: "u16", Flags: "u32",
    PublicKey: "blob", Name: "str", Culture: "str",
  },
  AssemblyProcessor: { Processor: "u32" },
  AssemblyOS: { OSPlatformId: "u32", OSMajorVersion: "u32", OSMinorVersion: "u32" },
  AssemblyRef: {
    MajorVersion: "u16", MinorVersion: "u16", BuildNumber: "u16", RevisionNumber: "u16", Flags: "u32",
    PublicKeyOrToken: "blob", Name: "str", Culture: "str", HashValue: "blob",
  },
  AssemblyRefProcessor: { Processor: "u32", AssemblyRef: idx(T.AssemblyRef) },
  AssemblyRefOS: { OSPlatformId: "u32", OSMajorVersion: "u32", OSMinorVersion: "u32", AssemblyRef: idx(T.AssemblyRef) },
  File: { Flags: "u32", Name: "str", HashValue: "blob" },
  ExportedType: { Flags: "u32", TypeDefId: "u32", Name: "str", Namespace: "str", Implementation: coded("Implementation") },
  ManifestResource: { Offset: "u32", Flags: "u32", Name: "str", Implementation: coded("Implementation") },
  NestedClass: { NestedClass: idx(T.TypeDef), EnclosingClass: idx(T.TypeDef) },
  GenericParam: { Number: "u16", Flags: "u16", Owner: coded("TypeOrMethodDef"), Name: "str" },
  MethodSpec: { Method: coded("MethodDefOrRef"), Instantiation: "blob" },
  GenericParamConstraint: { Owner: idx(T.GenericParam), Constraint: coded("TypeDefOrRef") },
} as const satisfies { [K in TableName]: Record<string, ColumnType> };

/** Column numbers by table and name: `COL.TypeDef.Name` is 1. */
export type ColumnIndex = { [K in TableName]: { [C in keyof (typeof SCHEMA)[K]]: number } };
export const COL = Object.fromEntries(
  Object.entries(SCHEMA).map(([table, cols]) => [table, Object.fromEntries(Object.keys(cols).map((c, i) => [c, i]))]),
) as ColumnIndex;

/** Schema by table number (undefined for numbers ECMA-335 leaves unassigned). */
export const SCHEMA_BY_ID: (readonly ColumnType[] | undefined)[] = (() => {
  const out: (readonly ColumnType[] | undefined)[] = new Array(64).fill(undefined);
  for (const [name, cols] of Object.entries(SCHEMA)) out[T[name as TableName]] = Object.values(cols) as ColumnType[];
  return out;
})();

export const TABLE_NAMES: string[] = (() => {
  const out: string[] = new Array(64).fill("");
  for (const [name, id] of Object.entries(T)) out[id] = name;
  return out;
})();

/**
 * A list column (TypeDef.FieldList, ...) counts rows of the target table or of its Ptr table when
 * that exists (uncompressed "#-" metadata); its width must cover both.
 */
export const PTR_TABLE: Partial<Record<number, number>> = {
  [T.Field]: T.FieldPtr,
  [T.MethodDef]: T.MethodPtr,
  [T.Param]: T.ParamPtr,
  [T.Event]: T.EventPtr,
  [T.Property]: T.PropertyPtr,
};

/** Flags of TypeDef rows used by the reader (ECMA-335 II.23.1.15). */
export const TypeAttributes = {
  VisibilityMask: 0x7,
  NestedPublic: 0x2,
  Interface: 0x20,
  Sealed: 0x100,
} as const;

/** Token helpers: table in the high byte, 1-based row number in the low 24 bits. */
export function token(table: number, rid: number): number {
  return ((table << 24) | rid) >>> 0;
}
export function tokenTable(tok: number): number {
  return tok >>> 24;
}
export function tokenRid(tok: number): number {
  return tok & 0xffffff;
}
