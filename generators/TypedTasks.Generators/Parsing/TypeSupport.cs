using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Decides whether MessagePack, as <c>TaskSerializer.Options</c> sets it up (the standard resolvers,
/// then the dynamic object resolvers, the contractless one last; never the typeless one), can carry
/// a type, and if not, says why. It follows arrays, nullable values, tuples, the standard
/// collections and the members that classes, structs and records carry (see <see cref="ObjectContract"/>).
/// </summary>
internal static class TypeSupport
{
    private const int MaxDepth = 12;

    // Non-generic types outside the primitives that the built-in formatters handle.
    private static readonly HashSet<string> KnownTypes =
    [
        "System.Guid", "System.DateTimeOffset", "System.TimeSpan", "System.Uri", "System.Version",
        "System.Numerics.BigInteger", "System.Numerics.Complex", "System.Text.StringBuilder",
        "System.Collections.BitArray", "System.DateOnly", "System.TimeOnly",
    ];

    // Generic types whose formatter comes from DynamicGenericResolver: check their type arguments.
    private static readonly HashSet<string> KnownGenerics =
    [
        "System.Nullable`1", "System.Lazy`1", "System.ArraySegment`1", "System.Memory`1", "System.ReadOnlyMemory`1",
        "System.Tuple`1", "System.Tuple`2", "System.Tuple`3", "System.Tuple`4", "System.Tuple`5", "System.Tuple`6", "System.Tuple`7", "System.Tuple`8",
        "System.ValueTuple`1", "System.ValueTuple`2", "System.ValueTuple`3", "System.ValueTuple`4", "System.ValueTuple`5", "System.ValueTuple`6", "System.ValueTuple`7", "System.ValueTuple`8",
        "System.Collections.Generic.KeyValuePair`2",
        "System.Collections.Generic.List`1", "System.Collections.Generic.LinkedList`1", "System.Collections.Generic.Queue`1", "System.Collections.Generic.Stack`1",
        "System.Collections.Generic.HashSet`1", "System.Collections.Generic.SortedSet`1",
        "System.Collections.Generic.Dictionary`2", "System.Collections.Generic.SortedDictionary`2", "System.Collections.Generic.SortedList`2",
        "System.Collections.Generic.IEnumerable`1", "System.Collections.Generic.ICollection`1", "System.Collections.Generic.IList`1",
        "System.Collections.Generic.IReadOnlyCollection`1", "System.Collections.Generic.IReadOnlyList`1", "System.Collections.Generic.ISet`1",
        "System.Collections.Generic.IReadOnlySet`1",
        "System.Collections.Generic.IDictionary`2", "System.Collections.Generic.IReadOnlyDictionary`2",
        "System.Collections.ObjectModel.Collection`1", "System.Collections.ObjectModel.ReadOnlyCollection`1", "System.Collections.ObjectModel.ObservableCollection`1",
        "System.Collections.ObjectModel.ReadOnlyDictionary`2", "System.Collections.ObjectModel.ReadOnlyObservableCollection`1",
        "System.Collections.Concurrent.ConcurrentDictionary`2", "System.Collections.Concurrent.ConcurrentBag`1",
        "System.Collections.Concurrent.ConcurrentQueue`1", "System.Collections.Concurrent.ConcurrentStack`1", "System.Collections.Concurrent.BlockingCollection`1",
        "System.Linq.ILookup`2", "System.Linq.IGrouping`2",
    ];

    /// <summary>Null when MessagePack can carry <paramref name="type"/>; otherwise why not.</summary>
    public static TypeProblem? Check(ITypeSymbol type, Compilation compilation)
        => Check(type, compilation, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default), 0, null);

    private static TypeProblem? Check(ITypeSymbol type, Compilation compilation, HashSet<ITypeSymbol> visiting, int depth, string? path)
    {
        // The type's name, then where it sits when reached through members ("'Item' (in Order.Lines)").
        string Subject() => path is null ? $"'{Display(type)}'" : $"'{Display(type)}' (in {path})";
        TypeProblem Unsupported(string what) => new(TypeProblemKind.Unsupported, path is null ? what : $"{what} (in {path})");

        switch (type)
        {
            case IErrorTypeSymbol or ITypeParameterSymbol:
                return null; // broken code or a type argument: the compiler speaks, not us
            case IDynamicTypeSymbol:
                return Unsupported("dynamic names no type to decode into");
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                return Unsupported($"'{Display(type)}' is a pointer");
            case IArrayTypeSymbol array:
                return Check(array.ElementType, compilation, visiting, depth + 1, path);
        }

        if (type is not INamedTypeSymbol named)
        {
            return Unsupported($"'{Display(type)}' is not a named type");
        }

        if (named.IsRefLikeType)
        {
            return Unsupported($"'{Display(type)}' is a ref struct, which cannot leave the stack");
        }

        // Only the primitives pass on their special type alone: IDisposable, IEnumerable<T>,
        // Nullable<T>, Enum or Array have a special type too, and go through the checks below.
        switch (named.SpecialType)
        {
            case SpecialType.System_Object:
                return Unsupported("'object' names no type to decode into; name a concrete type");
            case SpecialType.System_IntPtr or SpecialType.System_UIntPtr:
                return Unsupported($"'{Display(type)}' is a native pointer-sized handle, meaningless in another process");
            case SpecialType.System_Void or SpecialType.System_Boolean or SpecialType.System_Char
                or SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16
                or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
                or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal
                or SpecialType.System_String or SpecialType.System_DateTime:
                return null;
        }

        if (named.TypeKind == TypeKind.Delegate)
        {
            return Unsupported($"'{Display(type)}' is a delegate, which is code and cannot travel in a message");
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            return null;
        }

        var metadataName = MetadataName(named.OriginalDefinition);
        if (KnownTypes.Contains(metadataName))
        {
            return null;
        }

        if (named.IsGenericType && KnownGenerics.Contains(metadataName))
        {
            foreach (var argument in named.TypeArguments)
            {
                if (Check(argument, compilation, visiting, depth + 1, path) is { } problem)
                {
                    return problem;
                }
            }

            return null;
        }

        if (Inherits(named, KnownNames.Stream))
        {
            return Unsupported($"'{Display(type)}' is a stream; pass its bytes (byte[]) or a path or URL to it instead");
        }

        if (Inherits(named, KnownNames.Exception))
        {
            return Unsupported($"'{Display(type)}' is an exception; pass its message or a record of the fields you need");
        }

        if (metadataName is "System.Type" || metadataName.StartsWith("System.Reflection.", System.StringComparison.Ordinal))
        {
            return Unsupported($"'{Display(type)}' would name a type or member to load, which TypedTasks never does from a message");
        }

        if (metadataName.StartsWith("System.Threading.", System.StringComparison.Ordinal))
        {
            return Unsupported($"'{Display(type)}' is a live object of this process (a task, token or lock)");
        }

        if (HasAttribute(named, KnownNames.MessagePackFormatterAttribute))
        {
            return null; // the user wrote the formatter
        }

        if (named.TypeKind == TypeKind.Interface || named.IsAbstract)
        {
            // The union resolver comes before the object resolvers; without [Union] nothing can create one.
            var cases = named.GetAttributes()
                .Where(a => a.AttributeClass is { } c && MetadataName(c) == KnownNames.UnionAttribute && a.ConstructorArguments.Length == 2)
                .Select(a => a.ConstructorArguments[1].Value)
                .OfType<ITypeSymbol>()
                .ToList();
            if (cases.Count == 0)
            {
                return new(TypeProblemKind.NoUnion, $"{Subject()} is {(named.TypeKind == TypeKind.Interface ? "an interface" : "an abstract class")}");
            }

            // Each case is written and read as itself, so each must be carried like a parameter type.
            foreach (var unionCase in cases)
            {
                if (Check(unionCase, compilation, visiting, depth + 1, $"[Union] of {named.Name}") is { } problem)
                {
                    return problem;
                }
            }

            return null;
        }

        if (IsFrameworkType(named))
        {
            return Unsupported($"MessagePack has no formatter for '{Display(type)}'");
        }

        // A class, struct or record: [MessagePackObject], [DataContract] or contractless.
        if (depth > MaxDepth || !visiting.Add(named))
        {
            return null;
        }

        try
        {
            var contract = ObjectContract.Analyze(named, compilation);
            if (contract.Problem is { } lack)
            {
                return new(contract.Kind, $"{Subject()} {lack}");
            }

            foreach (var (name, memberType) in contract.Carried)
            {
                if (Check(memberType, compilation, visiting, depth + 1, $"{named.Name}.{name}") is { } problem)
                {
                    return problem;
                }
            }

            return null;
        }
        finally
        {
            visiting.Remove(named);
        }
    }

    private static bool IsFrameworkType(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        return ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal) || ns.StartsWith("Microsoft.", System.StringComparison.Ordinal);
    }

    private static bool Inherits(INamedTypeSymbol type, string metadataName)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (MetadataName(current) == metadataName)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasAttribute(INamedTypeSymbol type, string metadataName)
        => type.GetAttributes().Any(a => a.AttributeClass is { } c && MetadataName(c) == metadataName);

    public static string MetadataName(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : string.Empty;
        var outer = type.ContainingType is { } containing ? MetadataName(containing) + "+" : ns;
        return outer + type.MetadataName;
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
}
