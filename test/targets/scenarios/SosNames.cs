// SOS-style names built from reflection (System.Type / MethodBase), so the truth file's names come
// from the runtime's own type system, not from clrscope's formatter. The formatting rules are those
// the runtime's DAC applies (TypeString with FormatNamespace|FormatFullInst for types, SigFormat for
// parameter lists), as documented in dotnet/diagnostics SOS output:
//
// Types (dumpmt/dumpobj "Name:", the type part of method names):
//   - namespace-qualified, nested types joined with '+': "Scenarios.Outer+Leaf";
//   - generic instantiations: each argument in double brackets with its assembly's simple name:
//     "Scenarios.Pair`2[[System.Int32, System.Private.CoreLib],[System.String, System.Private.CoreLib]]";
//     an argument that is a generic parameter prints bare (a partly open instantiation);
//   - a generic type definition (the typical instantiation, List<T> itself) prints without arguments:
//     "Scenarios.Outer+Inner`1"; a generic method definition likewise ("Park", parameters "(T, U)");
//   - arrays: "System.Int32[]", "System.Int32[,]", "System.Int32[*]" (rank-1 non-SZ); "*", "&".
// Methods (clrstack, dumpmd, name2ee): "<type>.<name>[<method instantiation>](<parameters>)" where
// the parameters use SigFormat: primitives short ("Int32", "Boolean"), object/string and classes as
// namespace.name without enclosing types ("System.String", "Leaf"), generic instantiations in a
// signature with angle brackets ("Pair`2<Int32,System.String>"), byrefs " ByRef", pointers "*",
// arrays "[]"/"[,]"; parameters are separated by ", ".
// Shared generic code: the runtime runs one canonical copy for reference-type arguments, and a
// stack frame's MethodDesc is that copy: `canonical: true` replaces every reference-type argument
// by System.__Canon (value-type arguments stay exact), as SOS shows such frames.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;

namespace Scenarios;

public static class SosNames
{
    static readonly Type Canon = typeof(object).Assembly.GetType("System.__Canon", throwOnError: true)!;

    static Type Canonical(Type t, bool canonical) => canonical && !t.IsValueType && !t.IsGenericParameter ? Canon : t;

    /** The DAC's type name (GetMethodTableName). */
    public static string TypeName(Type t, bool canonical = false)
    {
        if (t.IsArray)
        {
            string rank = t.IsSZArray ? "[]" : t.GetArrayRank() == 1 ? "[*]" : "[" + new string(',', t.GetArrayRank() - 1) + "]";
            return TypeName(t.GetElementType()!, canonical) + rank;
        }
        if (t.IsPointer) return TypeName(t.GetElementType()!, canonical) + "*";
        if (t.IsByRef) return TypeName(t.GetElementType()!, canonical) + "&";
        if (t.IsGenericParameter) return Escape(t.Name);
        var def = t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        string name = DefinitionName(def);
        if (t.IsGenericType && !t.IsGenericTypeDefinition) name += Instantiation(t.GetGenericArguments(), canonical);
        return name;
    }

    static string DefinitionName(Type def) =>
        def.IsNested ? DefinitionName(def.DeclaringType!) + "+" + Escape(def.Name)
                     : (string.IsNullOrEmpty(def.Namespace) ? "" : Escape(def.Namespace) + ".") + Escape(def.Name);

    /** "[[Arg, Assembly],T,...]": generic parameters bare, other arguments with their assembly's simple name. */
    static string Instantiation(Type[] args, bool canonical) =>
        "[" + string.Join(",", args.Select(a =>
        {
            a = Canonical(a, canonical);
            return a.IsGenericParameter ? Escape(a.Name) : "[" + TypeName(a, canonical) + ", " + AssemblyOf(a) + "]";
        })) + "]";

    static string AssemblyOf(Type t)
    {
        while (t.HasElementType) t = t.GetElementType()!;
        return t.Assembly.GetName().Name!;
    }

    static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s) { if (",[]&*+\\".IndexOf(c) >= 0) sb.Append('\\'); sb.Append(c); }
        return sb.ToString();
    }

    /** The DAC's method name (GetMethodDescName): type, name, method instantiation, SigFormat parameters. */
    public static string MethodName(MethodBase m, bool canonical = false)
    {
        var owner = m.DeclaringType!;
        string name = TypeName(owner, canonical) + "." + m.Name;
        Type[] methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : Type.EmptyTypes;
        if (m.IsGenericMethod && !m.IsGenericMethodDefinition) name += Instantiation(methodArgs, canonical);
        // Parameters are those of the definition (T, U), substituted with the (canonical) instantiation.
        var definition = m.Module.ResolveMethod(m.MetadataToken)!;
        Type[] classArgs = owner.IsGenericType ? owner.GetGenericArguments() : Type.EmptyTypes;
        var ps = definition.GetParameters().Select(p => SigType(p.ParameterType,
            classArgs.Select(a => Canonical(a, canonical)).ToArray(), methodArgs.Select(a => Canonical(a, canonical)).ToArray()));
        return name + "(" + string.Join(", ", ps) + ")";
    }

    /** A method name for a DynamicMethod frame: the runtime names their type DynamicClass. */
    public static string DynamicMethodName(string name, Type[] parameters) =>
        "DynamicClass." + name + "(" + string.Join(", ", parameters.Select(p => SigType(p, Type.EmptyTypes, Type.EmptyTypes))) + ")";

    /** The frame of the IL stub the runtime generates for a P/Invoke: ILStubClass.IL_STUB_PInvoke with the P/Invoke's parameters. */
    public static string PInvokeStubName(MethodInfo pinvoke) =>
        "ILStubClass.IL_STUB_PInvoke(" + string.Join(", ", pinvoke.GetParameters().Select(p => SigType(p.ParameterType, Type.EmptyTypes, Type.EmptyTypes))) + ")";

    static readonly Dictionary<Type, string> Primitives = new()
    {
        [typeof(void)] = "Void", [typeof(bool)] = "Boolean", [typeof(char)] = "Char", [typeof(sbyte)] = "SByte",
        [typeof(byte)] = "Byte", [typeof(short)] = "Int16", [typeof(ushort)] = "UInt16", [typeof(int)] = "Int32",
        [typeof(uint)] = "UInt32", [typeof(long)] = "Int64", [typeof(ulong)] = "UInt64", [typeof(float)] = "Single",
        [typeof(double)] = "Double", [typeof(IntPtr)] = "IntPtr", [typeof(UIntPtr)] = "UIntPtr",
        [typeof(object)] = "System.Object", [typeof(string)] = "System.String", [typeof(TypedReference)] = "TypedReference",
    };

    /** SigFormat's name of a signature type (generic parameters replaced by the instantiation). */
    static string SigType(Type t, Type[] classArgs, Type[] methodArgs)
    {
        if (t.IsByRef) return SigType(t.GetElementType()!, classArgs, methodArgs) + " ByRef";
        if (t.IsPointer) return SigType(t.GetElementType()!, classArgs, methodArgs) + "*";
        if (t.IsArray) return SigType(t.GetElementType()!, classArgs, methodArgs) + (t.IsSZArray ? "[]" : "[" + new string(',', t.GetArrayRank() - 1) + "]");
        if (t.IsGenericParameter)
        {
            var args = t.DeclaringMethod != null ? methodArgs : classArgs;
            return t.GenericParameterPosition < args.Length ? SigType(args[t.GenericParameterPosition], Type.EmptyTypes, Type.EmptyTypes) : t.Name;
        }
        if (Primitives.TryGetValue(t, out var p)) return p;
        var def = t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        string name = def.IsNested || string.IsNullOrEmpty(def.Namespace) ? def.Name : def.Namespace + "." + def.Name;
        if (t.IsConstructedGenericType) name += "<" + string.Join(",", t.GetGenericArguments().Select(a => SigType(a, classArgs, methodArgs))) + ">";
        return name;
    }
}
