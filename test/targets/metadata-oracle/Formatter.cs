// Signature and type-name text for the oracle, through System.Reflection.Metadata's own
// SignatureDecoder. The conventions mirror src/metadata/signatures.ts `formatSignature` (an
// ILDasm-like canonical form chosen for comparison, not an SOS display format):
//   primitives    void bool char int8 uint8 ... float64 "native int" "native uint" object string typedref
//   TypeDef       class NS.Outer/Inner          (valuetype for value types; no prefix for modifiers)
//   TypeRef       class [Assembly]NS.Name, [.module M]NS.Name, [*]NS.Name (nil scope), NS.Name (this module)
//   generics      class NS.List`1<int32,!0,!!1>
//   arrays        int32[]  int32[:,:]  int32[1:2,:]   (per dimension: lower bound ':' size, empty when absent)
//   others        T*  T&  "T pinned"  "T modreq(M)"  "T modopt(M)"  "method <method signature>"
//   methods       [instance ][explicit ][<calling convention> ][generic(N) ]RET(P1,P2,...,P3)
//                 with "..." inserted before the optional (vararg) parameters of a call site.
using System.Collections.Immutable;
using System.Linq;
using System.Reflection.Metadata;
using System.Text;

namespace Clrscope.MetadataOracle;

sealed class Formatter : ISignatureTypeProvider<string, object?>
{
    readonly MetadataReader r;
    public Formatter(MetadataReader reader) { r = reader; }

    public string GetPrimitiveType(PrimitiveTypeCode code) => code switch
    {
        PrimitiveTypeCode.Void => "void",
        PrimitiveTypeCode.Boolean => "bool",
        PrimitiveTypeCode.Char => "char",
        PrimitiveTypeCode.SByte => "int8",
        PrimitiveTypeCode.Byte => "uint8",
        PrimitiveTypeCode.Int16 => "int16",
        PrimitiveTypeCode.UInt16 => "uint16",
        PrimitiveTypeCode.Int32 => "int32",
        PrimitiveTypeCode.UInt32 => "uint32",
        PrimitiveTypeCode.Int64 => "int64",
        PrimitiveTypeCode.UInt64 => "uint64",
        PrimitiveTypeCode.Single => "float32",
        PrimitiveTypeCode.Double => "float64",
        PrimitiveTypeCode.IntPtr => "native int",
        PrimitiveTypeCode.UIntPtr => "native uint",
        PrimitiveTypeCode.Object => "object",
        PrimitiveTypeCode.String => "string",
        PrimitiveTypeCode.TypedReference => "typedref",
        _ => "?" + (int)code,
    };

    static string Prefix(byte rawTypeKind) => rawTypeKind switch { 0x11 => "valuetype ", 0x12 => "class ", _ => "" };

    public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        => Prefix(rawTypeKind) + DefName(handle);

    public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        => Prefix(rawTypeKind) + RefName(handle);

    public string GetTypeFromSpecification(MetadataReader reader, object? ctx, TypeSpecificationHandle handle, byte rawTypeKind)
        => reader.GetTypeSpecification(handle).DecodeSignature(this, ctx);

    public string GetSZArrayType(string elementType) => elementType + "[]";

    public string GetArrayType(string elementType, ArrayShape shape)
    {
        var dims = new string[shape.Rank];
        for (int i = 0; i < shape.Rank; i++)
        {
            string lo = i < shape.LowerBounds.Length ? shape.LowerBounds[i].ToString() : "";
            string size = i < shape.Sizes.Length ? shape.Sizes[i].ToString() : "";
            dims[i] = lo + ":" + size;
        }
        return elementType + "[" + string.Join(",", dims) + "]";
    }

    public string GetByReferenceType(string elementType) => elementType + "&";
    public string GetPointerType(string elementType) => elementType + "*";
    public string GetPinnedType(string elementType) => elementType + " pinned";
    public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments)
        => genericType + "<" + string.Join(",", typeArguments) + ">";
    public string GetGenericTypeParameter(object? ctx, int index) => "!" + index;
    public string GetGenericMethodParameter(object? ctx, int index) => "!!" + index;
    public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired)
        => unmodifiedType + (isRequired ? " modreq(" : " modopt(") + modifier + ")";
    public string GetFunctionPointerType(MethodSignature<string> signature) => "method " + Method(signature);

    public static string Method(MethodSignature<string> s)
    {
        var sb = new StringBuilder();
        if (s.Header.IsInstance) sb.Append("instance ");
        if (s.Header.HasExplicitThis) sb.Append("explicit ");
        sb.Append(s.Header.CallingConvention switch
        {
            SignatureCallingConvention.CDecl => "unmanaged cdecl ",
            SignatureCallingConvention.StdCall => "unmanaged stdcall ",
            SignatureCallingConvention.ThisCall => "unmanaged thiscall ",
            SignatureCallingConvention.FastCall => "unmanaged fastcall ",
            SignatureCallingConvention.VarArgs => "vararg ",
            SignatureCallingConvention.Unmanaged => "unmanaged ",
            _ => "",
        });
        if (s.Header.IsGeneric) sb.Append("generic(").Append(s.GenericParameterCount).Append(") ");
        sb.Append(s.ReturnType).Append('(');
        var ps = s.ParameterTypes.ToList();
        if (s.RequiredParameterCount < ps.Count) ps.Insert(s.RequiredParameterCount, "...");
        sb.Append(string.Join(",", ps)).Append(')');
        return sb.ToString();
    }

    public string DefName(TypeDefinitionHandle h)
    {
        var td = r.GetTypeDefinition(h);
        string name = Full(r.GetString(td.Namespace), r.GetString(td.Name));
        var outer = td.GetDeclaringType();
        return outer.IsNil ? name : DefName(outer) + "/" + name;
    }

    public string RefName(TypeReferenceHandle h)
    {
        var tr = r.GetTypeReference(h);
        string name = Full(r.GetString(tr.Namespace), r.GetString(tr.Name));
        var scope = tr.ResolutionScope;
        if (scope.IsNil) return "[*]" + name;
        switch (scope.Kind)
        {
            case HandleKind.TypeReference: return RefName((TypeReferenceHandle)scope) + "/" + name;
            case HandleKind.AssemblyReference: return "[" + r.GetString(r.GetAssemblyReference((AssemblyReferenceHandle)scope).Name) + "]" + name;
            case HandleKind.ModuleReference: return "[.module " + r.GetString(r.GetModuleReference((ModuleReferenceHandle)scope).Name) + "]" + name;
            default: return name;
        }
    }

    static string Full(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;
}
