// clrscope metadata oracle: `metadata-oracle <assembly> <out.json> [--il all|sample] [--reflect]`.
// Everything it prints comes from System.Reflection.Metadata (PEReader/MetadataReader/
// SignatureDecoder), System.Reflection.Emit.OpCodes and runtime reflection, never from clrscope:
// test/integration/metadata.test.ts compares clrscope's reader with this output field by field.
// Rows are printed as arrays (not objects) to keep the output of System.Private.CoreLib small.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Clrscope.MetadataOracle;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine("usage: metadata-oracle <assembly> <out.json> [--il all|sample] [--reflect]"); return 2; }
        string path = Path.GetFullPath(args[0]);
        bool ilAll = args.SkipWhile(a => a != "--il").Skip(1).FirstOrDefault() == "all";
        bool reflect = args.Contains("--reflect");

        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var fmt = new Formatter(reader);
        using var outStream = File.Create(args[1]);
        using var w = new Utf8JsonWriter(outStream);
        w.WriteStartObject();
        WritePe(w, pe);
        WriteMetadata(w, reader, fmt);
        WriteBodies(w, pe, reader, fmt, ilAll);
        if (reflect) WriteReflection(w, path, reader);
        w.WriteEndObject();
        return 0;
    }

    static int Tok(EntityHandle h) => h.IsNil ? 0 : MetadataTokens.GetToken(h);
    static int Tok(Handle h) => h.IsNil ? 0 : MetadataTokens.GetToken(h);
    static int Rid(EntityHandle h) => MetadataTokens.GetRowNumber(h);

    static string Try(Func<string> f)
    {
        try { return f(); } catch (BadImageFormatException) { return "!error"; }
    }

    static void WritePe(Utf8JsonWriter w, PEReader pe)
    {
        var h = pe.PEHeaders;
        w.WriteStartObject("pe");
        w.WriteNumber("machine", (int)h.CoffHeader.Machine);
        w.WriteNumber("timeDateStamp", (uint)h.CoffHeader.TimeDateStamp);
        w.WriteNumber("characteristics", (int)h.CoffHeader.Characteristics);
        w.WriteBoolean("pe32Plus", h.PEHeader!.Magic == PEMagic.PE32Plus);
        w.WriteString("imageBase", "0x" + h.PEHeader.ImageBase.ToString("x"));
        w.WriteNumber("sizeOfImage", h.PEHeader.SizeOfImage);
        w.WriteNumber("sizeOfHeaders", h.PEHeader.SizeOfHeaders);
        w.WriteNumber("sectionAlignment", h.PEHeader.SectionAlignment);
        w.WriteNumber("fileAlignment", h.PEHeader.FileAlignment);
        w.WriteNumber("subsystem", (int)h.PEHeader.Subsystem);
        w.WriteNumber("dllCharacteristics", (int)h.PEHeader.DllCharacteristics);
        w.WriteNumber("checkSum", h.PEHeader.CheckSum);
        w.WriteStartArray("sections");
        foreach (var s in h.SectionHeaders)
        {
            w.WriteStartArray();
            w.WriteStringValue(s.Name);
            w.WriteNumberValue(s.VirtualAddress); w.WriteNumberValue(s.VirtualSize);
            w.WriteNumberValue(s.PointerToRawData); w.WriteNumberValue(s.SizeOfRawData);
            w.WriteNumberValue((uint)s.SectionCharacteristics);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        var cor = h.CorHeader!;
        w.WriteNumber("corFlags", (int)cor.Flags);
        w.WriteNumber("runtimeVersion", cor.MajorRuntimeVersion * 100 + cor.MinorRuntimeVersion);
        w.WriteNumber("entryPoint", cor.EntryPointTokenOrRelativeVirtualAddress);
        w.WriteNumber("metadataRva", cor.MetadataDirectory.RelativeVirtualAddress);
        w.WriteNumber("metadataSize", cor.MetadataDirectory.Size);
        w.WriteNumber("metadataOffset", h.MetadataStartOffset);
        w.WriteNumber("managedNativeHeaderRva", cor.ManagedNativeHeaderDirectory.RelativeVirtualAddress);
        bool r2r = false;
        if (cor.ManagedNativeHeaderDirectory.Size >= 4)
            r2r = pe.GetSectionData(cor.ManagedNativeHeaderDirectory.RelativeVirtualAddress).GetReader().ReadUInt32() == 0x00525452;
        w.WriteBoolean("readyToRun", r2r);
        w.WriteStartArray("debug");
        foreach (var e in pe.ReadDebugDirectory())
        {
            w.WriteStartObject();
            w.WriteNumber("type", (int)e.Type);
            w.WriteNumber("stamp", e.Stamp);
            w.WriteNumber("major", e.MajorVersion);
            w.WriteNumber("minor", e.MinorVersion);
            w.WriteNumber("size", e.DataSize);
            w.WriteNumber("rva", e.DataRelativeVirtualAddress);
            w.WriteNumber("pointer", e.DataPointer);
            if (e.Type == DebugDirectoryEntryType.CodeView)
            {
                var cv = pe.ReadCodeViewDebugDirectoryData(e);
                w.WriteString("guid", cv.Guid.ToString());
                w.WriteNumber("age", cv.Age);
                w.WriteString("path", cv.Path);
                w.WriteBoolean("portable", e.IsPortableCodeView);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteMetadata(Utf8JsonWriter w, MetadataReader r, Formatter fmt)
    {
        w.WriteStartObject("metadata");
        w.WriteString("version", r.MetadataVersion);
        w.WriteStartArray("rowCounts");
        for (int t = 0; t <= 0x2C; t++) w.WriteNumberValue(r.GetTableRowCount((TableIndex)t));
        w.WriteEndArray();
        w.WriteStartArray("rowSizes");
        for (int t = 0; t <= 0x2C; t++) w.WriteNumberValue(r.GetTableRowSize((TableIndex)t));
        w.WriteEndArray();
        w.WriteStartObject("heapSizes");
        w.WriteNumber("strings", r.GetHeapSize(HeapIndex.String));
        w.WriteNumber("blob", r.GetHeapSize(HeapIndex.Blob));
        w.WriteNumber("guid", r.GetHeapSize(HeapIndex.Guid));
        w.WriteNumber("userString", r.GetHeapSize(HeapIndex.UserString));
        w.WriteEndObject();
        w.WriteEndObject();

        var md = r.GetModuleDefinition();
        w.WriteStartObject("module");
        w.WriteString("name", r.GetString(md.Name));
        w.WriteString("mvid", r.GetGuid(md.Mvid).ToString());
        w.WriteEndObject();
        if (r.IsAssembly)
        {
            var a = r.GetAssemblyDefinition();
            w.WriteStartObject("assembly");
            w.WriteString("name", r.GetString(a.Name));
            w.WriteString("version", a.Version.ToString());
            w.WriteString("culture", r.GetString(a.Culture));
            w.WriteNumber("flags", (int)a.Flags);
            w.WriteNumber("publicKeyLength", r.GetBlobReader(a.PublicKey).Length);
            w.WriteEndObject();
        }

        Rows(w, "assemblyRefs", r.AssemblyReferences, h =>
        {
            var a = r.GetAssemblyReference(h);
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(a.Name)); w.WriteStringValue(a.Version.ToString());
            w.WriteNumberValue((int)a.Flags);
        });
        Rows(w, "typeRefs", r.TypeReferences, h =>
        {
            var t = r.GetTypeReference(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(t.ResolutionScope));
            w.WriteStringValue(r.GetString(t.Namespace)); w.WriteStringValue(r.GetString(t.Name));
            w.WriteStringValue(fmt.RefName(h));
        });
        Rows(w, "typeDefs", r.TypeDefinitions, h =>
        {
            var t = r.GetTypeDefinition(h);
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(t.Namespace)); w.WriteStringValue(r.GetString(t.Name));
            w.WriteNumberValue((uint)t.Attributes); w.WriteNumberValue(Tok(t.BaseType)); w.WriteNumberValue(Tok(t.GetDeclaringType()));
            Ints(w, t.GetFields().Select(f => Rid(f)));
            Ints(w, t.GetMethods().Select(m => Rid(m)));
            var layout = t.GetLayout();
            w.WriteNumberValue(layout.IsDefault ? -1 : layout.PackingSize); w.WriteNumberValue(layout.IsDefault ? -1 : layout.Size);
            Ints(w, t.GetInterfaceImplementations().Select(i => Tok(r.GetInterfaceImplementation(i).Interface)));
            Ints(w, t.GetNestedTypes().Select(n => Rid(n)));
            w.WriteStringValue(fmt.DefName(h));
        });
        Rows(w, "fields", r.FieldDefinitions, h =>
        {
            var f = r.GetFieldDefinition(h);
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(f.Name)); w.WriteNumberValue((int)f.Attributes);
            w.WriteStringValue(Try(() => f.DecodeSignature(fmt, null)));
            w.WriteNumberValue(f.GetOffset()); w.WriteNumberValue(f.GetRelativeVirtualAddress());
            w.WriteNumberValue(Rid(f.GetDeclaringType()));
        });
        Rows(w, "methodDefs", r.MethodDefinitions, h =>
        {
            var m = r.GetMethodDefinition(h);
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(m.Name)); w.WriteNumberValue(m.RelativeVirtualAddress);
            w.WriteNumberValue((int)m.ImplAttributes); w.WriteNumberValue((int)m.Attributes);
            w.WriteStringValue(Try(() => Formatter.Method(m.DecodeSignature(fmt, null))));
            Ints(w, m.GetParameters().Select(p => Rid(p)));
            w.WriteNumberValue(Rid(m.GetDeclaringType()));
            var imp = m.GetImport();
            w.WriteStringValue(imp.Module.IsNil ? "" : r.GetString(imp.Name) + "@" + r.GetString(r.GetModuleReference(imp.Module).Name) + "#" + (int)imp.Attributes);
        });
        Rows(w, "params", Enumerable.Range(1, r.GetTableRowCount(TableIndex.Param)).Select(i => MetadataTokens.ParameterHandle(i)), h =>
        {
            var p = r.GetParameter(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(p.SequenceNumber); w.WriteNumberValue((int)p.Attributes); w.WriteStringValue(r.GetString(p.Name));
        });
        Rows(w, "memberRefs", r.MemberReferences, h =>
        {
            var m = r.GetMemberReference(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(m.Parent)); w.WriteStringValue(r.GetString(m.Name));
            w.WriteStringValue(Try(() => m.GetKind() == MemberReferenceKind.Method
                ? Formatter.Method(m.DecodeMethodSignature(fmt, null))
                : m.DecodeFieldSignature(fmt, null)));
        });
        Rows(w, "typeSpecs", Enumerable.Range(1, r.GetTableRowCount(TableIndex.TypeSpec)).Select(i => MetadataTokens.TypeSpecificationHandle(i)), h =>
        {
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(Try(() => r.GetTypeSpecification(h).DecodeSignature(fmt, null)));
        });
        Rows(w, "methodSpecs", Enumerable.Range(1, r.GetTableRowCount(TableIndex.MethodSpec)).Select(i => MetadataTokens.MethodSpecificationHandle(i)), h =>
        {
            var s = r.GetMethodSpecification(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(s.Method));
            w.WriteStringValue(Try(() => string.Join(",", s.DecodeSignature(fmt, null))));
        });
        Rows(w, "standAloneSigs", Enumerable.Range(1, r.GetTableRowCount(TableIndex.StandAloneSig)).Select(i => MetadataTokens.StandaloneSignatureHandle(i)), h =>
        {
            var s = r.GetStandaloneSignature(h);
            w.WriteNumberValue(Tok(h));
            w.WriteStringValue(Try(() => s.GetKind() == StandaloneSignatureKind.LocalVariables
                ? "locals(" + string.Join(",", s.DecodeLocalSignature(fmt, null)) + ")"
                : Formatter.Method(s.DecodeMethodSignature(fmt, null))));
        });
        Rows(w, "properties", Enumerable.Range(1, r.GetTableRowCount(TableIndex.Property)).Select(i => MetadataTokens.PropertyDefinitionHandle(i)), h =>
        {
            var p = r.GetPropertyDefinition(h);
            var acc = p.GetAccessors();
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(p.Name)); w.WriteNumberValue((int)p.Attributes);
            w.WriteStringValue(Try(() => Formatter.Method(p.DecodeSignature(fmt, null))));
            w.WriteNumberValue(Tok(acc.Getter)); w.WriteNumberValue(Tok(acc.Setter));
        });
        Rows(w, "events", Enumerable.Range(1, r.GetTableRowCount(TableIndex.Event)).Select(i => MetadataTokens.EventDefinitionHandle(i)), h =>
        {
            var e = r.GetEventDefinition(h);
            var acc = e.GetAccessors();
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(e.Name)); w.WriteNumberValue(Tok(e.Type));
            w.WriteNumberValue(Tok(acc.Adder)); w.WriteNumberValue(Tok(acc.Remover)); w.WriteNumberValue(Tok(acc.Raiser));
        });
        Rows(w, "customAttributes", r.CustomAttributes, h =>
        {
            var c = r.GetCustomAttribute(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(c.Parent)); w.WriteNumberValue(Tok(c.Constructor));
            w.WriteNumberValue(r.GetBlobReader(c.Value).Length);
        });
        Rows(w, "constants", Enumerable.Range(1, r.GetTableRowCount(TableIndex.Constant)).Select(i => MetadataTokens.ConstantHandle(i)), h =>
        {
            var c = r.GetConstant(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue((int)c.TypeCode); w.WriteNumberValue(Tok(c.Parent));
            w.WriteStringValue(Convert.ToHexString(r.GetBlobBytes(c.Value)).ToLowerInvariant());
        });
        Rows(w, "methodImpls", Enumerable.Range(1, r.GetTableRowCount(TableIndex.MethodImpl)).Select(i => MetadataTokens.MethodImplementationHandle(i)), h =>
        {
            var m = r.GetMethodImplementation(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(m.Type)); w.WriteNumberValue(Tok(m.MethodBody)); w.WriteNumberValue(Tok(m.MethodDeclaration));
        });
        Rows(w, "genericParams", Enumerable.Range(1, r.GetTableRowCount(TableIndex.GenericParam)).Select(i => MetadataTokens.GenericParameterHandle(i)), h =>
        {
            var g = r.GetGenericParameter(h);
            w.WriteNumberValue(Tok(h)); w.WriteNumberValue(Tok(g.Parent)); w.WriteNumberValue(g.Index); w.WriteNumberValue((int)g.Attributes);
            w.WriteStringValue(r.GetString(g.Name));
            Ints(w, g.GetConstraints().Select(c => Tok(r.GetGenericParameterConstraint(c).Type)));
        });
        Rows(w, "moduleRefs", Enumerable.Range(1, r.GetTableRowCount(TableIndex.ModuleRef)).Select(i => MetadataTokens.ModuleReferenceHandle(i)), h =>
        {
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(r.GetModuleReference(h).Name));
        });
        Rows(w, "exportedTypes", r.ExportedTypes, h =>
        {
            var e = r.GetExportedType(h);
            w.WriteNumberValue(Tok(h)); w.WriteStringValue(r.GetString(e.Namespace)); w.WriteStringValue(r.GetString(e.Name));
            w.WriteNumberValue(Tok(e.Implementation)); w.WriteNumberValue((uint)e.Attributes);
        });

        // #US: every entry from offset 1 on, in the order GetNextHandle walks them.
        w.WriteStartArray("userStrings");
        var us = MetadataTokens.UserStringHandle(0);
        for (var next = r.GetNextHandle(us); !next.IsNil; next = r.GetNextHandle(next))
        {
            w.WriteStartArray();
            w.WriteNumberValue(MetadataTokens.GetHeapOffset(next));
            w.WriteStringValue(r.GetUserString(next));
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    static void Rows<T>(Utf8JsonWriter w, string name, IEnumerable<T> handles, Action<T> row)
    {
        w.WriteStartArray(name);
        foreach (var h in handles)
        {
            w.WriteStartArray();
            row(h);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    static void Ints(Utf8JsonWriter w, IEnumerable<int> values)
    {
        w.WriteStartArray();
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    // ---- IL bodies, decoded with the runtime's own OpCodes table -----------------------------

    static readonly Dictionary<int, OpCode> Opcodes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (int)(ushort)o.Value, o => o);

    static void WriteBodies(Utf8JsonWriter w, PEReader pe, MetadataReader r, Formatter fmt, bool all)
    {
        w.WriteStartArray("bodies");
        int withEh = 0;
        foreach (var h in r.MethodDefinitions)
        {
            var m = r.GetMethodDefinition(h);
            if (m.RelativeVirtualAddress == 0) continue;
            MethodBodyBlock body;
            try { body = pe.GetMethodBody(m.RelativeVirtualAddress); } catch (BadImageFormatException) { continue; }
            bool pick = all || Rid(h) % 50 == 1 || (body.ExceptionRegions.Length > 0 && withEh < 300);
            if (!pick) continue;
            if (body.ExceptionRegions.Length > 0) withEh++;
            var il = body.GetILBytes()!;
            w.WriteStartObject();
            w.WriteNumber("token", Tok(h));
            w.WriteNumber("rva", m.RelativeVirtualAddress);
            w.WriteNumber("size", body.Size);
            w.WriteNumber("maxStack", body.MaxStack);
            w.WriteNumber("localSig", Tok(body.LocalSignature));
            w.WriteBoolean("initLocals", body.LocalVariablesInitialized);
            w.WriteString("il", Convert.ToHexString(il).ToLowerInvariant());
            w.WriteStartArray("regions");
            foreach (var e in body.ExceptionRegions)
            {
                w.WriteStartArray();
                w.WriteNumberValue((int)e.Kind); w.WriteNumberValue(e.TryOffset); w.WriteNumberValue(e.TryLength);
                w.WriteNumberValue(e.HandlerOffset); w.WriteNumberValue(e.HandlerLength);
                w.WriteNumberValue(Tok(e.CatchType)); w.WriteNumberValue(e.FilterOffset);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("instructions");
            WriteInstructions(w, il);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    // [offset, name, operand]: integers signed decimal, tokens 0x%08x, branch targets absolute
    // decimal, switch targets joined with ',', floats as their little-endian bytes in hex.
    static void WriteInstructions(Utf8JsonWriter w, byte[] il)
    {
        int pos = 0;
        while (pos < il.Length)
        {
            int start = pos;
            int code = il[pos++];
            if (code == 0xFE && pos < il.Length) code = 0xFE00 | il[pos++];
            w.WriteStartArray();
            w.WriteNumberValue(start);
            if (!Opcodes.TryGetValue(code, out var op)) { w.WriteStringValue("?" + code.ToString("x")); w.WriteStringValue(""); w.WriteEndArray(); break; }
            w.WriteStringValue(op.Name);
            string operand;
            switch (op.OperandType)
            {
                case OperandType.InlineNone: operand = ""; break;
                case OperandType.ShortInlineVar: operand = il[pos].ToString(); pos += 1; break;
                case OperandType.ShortInlineI: operand = ((sbyte)il[pos]).ToString(); pos += 1; break;
                case OperandType.ShortInlineBrTarget: operand = (pos + 1 + (sbyte)il[pos]).ToString(); pos += 1; break;
                case OperandType.InlineVar: operand = BitConverter.ToUInt16(il, pos).ToString(); pos += 2; break;
                case OperandType.InlineI: operand = BitConverter.ToInt32(il, pos).ToString(); pos += 4; break;
                case OperandType.InlineBrTarget: operand = (pos + 4 + BitConverter.ToInt32(il, pos)).ToString(); pos += 4; break;
                case OperandType.ShortInlineR: operand = Convert.ToHexString(il, pos, 4).ToLowerInvariant(); pos += 4; break;
                case OperandType.InlineI8: operand = BitConverter.ToInt64(il, pos).ToString(); pos += 8; break;
                case OperandType.InlineR: operand = Convert.ToHexString(il, pos, 8).ToLowerInvariant(); pos += 8; break;
                case OperandType.InlineSwitch:
                    {
                        int n = BitConverter.ToInt32(il, pos); pos += 4;
                        int end = pos + 4 * n;
                        var targets = new List<string>();
                        for (int i = 0; i < n; i++) targets.Add((end + BitConverter.ToInt32(il, pos + 4 * i)).ToString());
                        pos = end;
                        operand = string.Join(",", targets);
                        break;
                    }
                default: operand = "0x" + BitConverter.ToUInt32(il, pos).ToString("x8"); pos += 4; break;
            }
            w.WriteStringValue(operand);
            w.WriteEndArray();
        }
    }

    // ---- runtime reflection: the type names the runtime itself produces ------------------------

    // Type.FullName is the runtime's TypeString (namespace + full instantiation); the DAC prints the
    // same with simple assembly names, so version/culture/token are stripped.
    static readonly Regex AssemblyDetails = new(@", Version=[^,\]]*, Culture=[^,\]]*, PublicKeyToken=[^,\]]*");
    static string? DacForm(Type t) => t.FullName is null ? null : AssemblyDetails.Replace(t.FullName, "");

    static void WriteReflection(Utf8JsonWriter w, string path, MetadataReader r)
    {
        Assembly asm;
        try
        {
            asm = string.Equals(path, typeof(object).Assembly.Location, StringComparison.Ordinal)
                ? typeof(object).Assembly
                : AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => !a.IsDynamic && a.Location == path) ?? Assembly.LoadFrom(path);
        }
        catch (Exception e) { w.WriteString("reflectionError", e.GetType().Name + ": " + e.Message); return; }
        w.WriteString("reflectedFrom", asm.Location);
        w.WriteStartArray("typeNames");
        foreach (var h in r.TypeDefinitions)
        {
            string? name;
            try { name = DacForm(asm.ManifestModule.ResolveType(Tok(h))); } catch (Exception) { name = null; }
            w.WriteStartArray();
            w.WriteNumberValue(Tok(h));
            if (name is null) w.WriteNullValue(); else w.WriteStringValue(name);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartObject("constructedNames");
        foreach (var (key, type) in Constructed())
        {
            w.WriteString(key, DacForm(type));
            w.WriteString(key + "@assembly", type.Assembly.GetName().Name);
        }
        w.WriteEndObject();
    }

    // Keys are parsed by the test, which builds the same types from metadata: see metadata.test.ts.
    static IEnumerable<(string, Type)> Constructed()
    {
        yield return ("Dictionary<String,Int32>", typeof(Dictionary<string, int>));
        yield return ("Dictionary<String,Int32>+Enumerator", typeof(Dictionary<string, int>.Enumerator));
        yield return ("List<Int32[]>", typeof(List<int[]>));
        yield return ("List<Int32>[]", typeof(List<int>[]));
        yield return ("KeyValuePair<String,List<Int32>>", typeof(KeyValuePair<string, List<int>>));
        yield return ("Int32[,]", typeof(int[,]));
        yield return ("Int32[][]", typeof(int[][]));
        yield return ("Int32[*]", Array.CreateInstance(typeof(int), new[] { 1 }, new[] { 1 }).GetType());
        yield return ("Int32*", typeof(int).MakePointerType());
        yield return ("Int32&", typeof(int).MakeByRefType());
        yield return ("Nullable<Guid>", typeof(Guid?));
        yield return ("Func<String,Boolean>", typeof(Func<string, bool>));
        yield return ("ValueTuple<Int32,ValueTuple<String>>", typeof(ValueTuple<int, ValueTuple<string>>));
        yield return ("Stack<Int32>", typeof(Stack<int>));
        yield return ("SortedDictionary<Int32,String>+KeyCollection", typeof(SortedDictionary<int, string>.KeyCollection));
        yield return ("List<T>", typeof(List<>));
        yield return ("Dictionary<TKey,TValue>+Enumerator", typeof(Dictionary<,>.Enumerator));
    }
}
