using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// How MessagePack 2.5's dynamic object resolvers (the <c>[MessagePackObject]</c>/<c>[DataContract]</c>
/// one and the contractless one behind <c>TaskSerializer.Options</c>) would build a formatter for a
/// class or struct: which members carry a key, which constructor they pick, and why they would
/// throw instead. The rules mirror the resolvers' own: a type that passes here round-trips, and one
/// that fails here throws when the first message of it is written or read.
/// </summary>
internal static class ObjectContract
{
    /// <summary>A member that can carry a key: a public-accessor instance property or field.</summary>
    private sealed record Member(string Name, string Key, int? IntKey, ITypeSymbol Type, bool Readable, bool Writable);

    /// <summary>The members that travel in a message, or why the resolver would refuse the type.</summary>
    public readonly struct Result
    {
        public Result(IReadOnlyList<(string Name, ITypeSymbol Type)> carried)
        {
            Carried = carried;
            Problem = null;
            Kind = TypeProblemKind.Unsupported;
        }

        public Result(TypeProblemKind kind, string problem)
        {
            Carried = [];
            Problem = problem;
            Kind = kind;
        }

        public IReadOnlyList<(string Name, ITypeSymbol Type)> Carried { get; }

        /// <summary>Null when the resolver accepts the type; otherwise what it lacks, after the type's name.</summary>
        public string? Problem { get; }

        public TypeProblemKind Kind { get; }
    }

    public static Result Analyze(INamedTypeSymbol type, Compilation compilation)
    {
        // The resolvers emit their formatter into a dynamic assembly, which reaches public types only.
        for (var outer = type; outer is not null; outer = outer.ContainingType)
        {
            if (outer.DeclaredAccessibility != Accessibility.Public)
            {
                return new(TypeProblemKind.Unsupported, SymbolEqualityComparer.Default.Equals(outer, type)
                    ? $"is {TaskParser.AccessibilityText(outer.DeclaredAccessibility)}, and MessagePack builds its formatter in another assembly, which reaches public types only; make it public"
                    : $"is nested in '{outer.Name}', which is {TaskParser.AccessibilityText(outer.DeclaredAccessibility)}, and MessagePack builds its formatter in another assembly, which reaches public types only; make '{outer.Name}' public");
            }
        }

        var contract = Attribute(type, KnownNames.MessagePackObjectAttribute);
        var dataContract = contract is null ? Attribute(type, KnownNames.DataContractAttribute) : null;
        var keyAsName = contract is not null && KeyAsPropertyName(contract);
        var byName = contract is null && dataContract is null || keyAsName;

        var members = new List<Member>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool? intKeys = byName ? false : null;
        foreach (var symbol in InstanceMembers(type))
        {
            var (memberType, readable, writable) = symbol switch
            {
                IPropertySymbol p => (p.Type, p.GetMethod?.DeclaredAccessibility == Accessibility.Public, p.SetMethod?.DeclaredAccessibility == Accessibility.Public),
                IFieldSymbol f => (f.Type, f.DeclaredAccessibility == Accessibility.Public, f.DeclaredAccessibility == Accessibility.Public && !f.IsReadOnly),
                _ => (null!, false, false),
            };
            if (!(readable || writable) || Attribute(symbol, KnownNames.IgnoreMemberAttribute) is not null || Attribute(symbol, KnownNames.IgnoreDataMemberAttribute) is not null)
            {
                continue;
            }

            // A member hiding a base member of the same name gets a qualified key, as in MessagePack.
            var name = seen.Add(symbol.Name) ? symbol.Name : $"{symbol.ContainingType.ToDisplayString()}.{symbol.Name}";
            object? key = name;
            if (!byName)
            {
                key = contract is not null ? KeyOf(symbol) : DataMemberKey(symbol);
                if (key is null && contract is null)
                {
                    continue; // [DataContract] carries only [DataMember] members
                }

                if (key is null)
                {
                    return new(TypeProblemKind.Unsupported, $"is [MessagePackObject] but its public member '{symbol.Name}' has neither [Key] nor [IgnoreMember]; give it one, or use [MessagePackObject(keyAsPropertyName: true)]");
                }

                intKeys ??= key is int;
                if (intKeys != key is int)
                {
                    return new(TypeProblemKind.Unsupported, $"mixes integer and string keys (member '{symbol.Name}'); use one kind of [Key] for all members");
                }

                if (members.Any(m => key is int index ? m.IntKey == index : m.IntKey is null && m.Key == (string)key))
                {
                    return new(TypeProblemKind.Unsupported, $"uses the key {Literal(key)} twice (member '{symbol.Name}'); give each member its own [Key]");
                }
            }

            members.Add(new Member(symbol.Name, key as string ?? name, key as int?, memberType, readable, writable));
        }

        // A compiled reference (a reference assembly, most often) hides private constructors, such as
        // a private [SerializationConstructor] one: judge constructors only where the source is at hand,
        // and walk every member of a referenced type.
        if (!type.OriginalDefinition.Locations.Any(l => l.IsInSource))
        {
            return new([.. members.Select(m => (m.Name, m.Type))]);
        }

        var (matched, constructorProblem) = Constructor(type, members, intKeys == true, compilation);
        if (constructorProblem is not null)
        {
            return new(TypeProblemKind.NoConstructor, constructorProblem);
        }

        return new([.. members.Where(m => matched!.Contains(m) || m.Writable).Select(m => (m.Name, m.Type))]);
    }

    /// <summary>
    /// The constructor the resolver would call: the one marked <c>[SerializationConstructor]</c> (of any
    /// access), else the first public one, widest first, whose every parameter binds to a readable
    /// member (by key index, or by name ignoring case) of an assignable type. A struct may have none.
    /// </summary>
    private static (HashSet<Member>? Matched, string? Problem) Constructor(INamedTypeSymbol type, List<Member> members, bool intKeys, Compilation compilation)
    {
        var marked = type.InstanceConstructors.Where(c => Attribute(c, KnownNames.SerializationConstructorAttribute) is not null).ToList();
        if (marked.Count > 1)
        {
            return (null, "has more than one constructor marked [SerializationConstructor]");
        }

        var candidates = marked.Count == 1
            ? marked
            : [.. type.InstanceConstructors
                .Where(c => c.DeclaredAccessibility == Accessibility.Public && !(type.IsValueType && c.IsImplicitlyDeclared))
                .OrderByDescending(c => c.Parameters.Length)];
        if (candidates.Count == 0)
        {
            return type.IsValueType
                ? ([], null)
                : (null, "has no public constructor");
        }

        string? firstProblem = null;
        foreach (var candidate in candidates)
        {
            var matched = new HashSet<Member>();
            string? problem = null;
            for (var i = 0; i < candidate.Parameters.Length && problem is null; i++)
            {
                var parameter = candidate.Parameters[i];
                var bound = intKeys
                    ? members.Where(m => m.IntKey == i)
                    : members.Where(m => string.Equals(m.Key, parameter.Name, StringComparison.OrdinalIgnoreCase)).OrderBy(m => m.Key == parameter.Name ? 0 : 1);
                var member = bound.FirstOrDefault(m => m.Readable && Assignable(m.Type, parameter.Type, compilation));
                if (member is null)
                {
                    var what = intKeys ? $"[Key({i})]" : $"'{parameter.Name}'";
                    problem = $"parameter '{parameter.Name}' of its constructor {Signature(candidate)} matches no public property or field {(intKeys ? "with " + what : "of that name")} and type";
                }
                else
                {
                    matched.Add(member);
                }
            }

            if (problem is null)
            {
                return (matched, null);
            }

            firstProblem ??= problem;
        }

        return (null, marked.Count == 1 ? firstProblem!.Replace("of its constructor", "of its [SerializationConstructor] constructor") : firstProblem);
    }

    /// <summary>What the resolver's <c>IsAssignableFrom</c> accepts and its emitted code can pass: identity, a reference conversion or boxing.</summary>
    private static bool Assignable(ITypeSymbol from, ITypeSymbol to, Compilation compilation)
    {
        if (compilation is not CSharpCompilation csharp)
        {
            return SymbolEqualityComparer.Default.Equals(from, to);
        }

        var conversion = csharp.ClassifyConversion(from, to);
        return conversion.IsIdentity || (conversion.IsImplicit && (conversion.IsReference || conversion.IsBoxing));
    }

    /// <summary>Instance properties and fields from the base-most type down, overrides folded into the member they override.</summary>
    private static IEnumerable<ISymbol> InstanceMembers(INamedTypeSymbol type)
    {
        var chain = new Stack<INamedTypeSymbol>();
        for (var current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
        {
            chain.Push(current);
        }

        foreach (var declaring in chain)
        {
            foreach (var member in declaring.GetMembers())
            {
                // Auto-property backing fields are implicitly declared; the resolvers skip them too.
                if (!member.IsStatic && (member is IPropertySymbol { IsIndexer: false, IsOverride: false } || member is IFieldSymbol { IsConst: false, IsImplicitlyDeclared: false }))
                {
                    yield return member;
                }
            }
        }
    }

    private static object? KeyOf(ISymbol member)
        => Attribute(member, KnownNames.KeyAttribute) is { ConstructorArguments.Length: 1 } key ? key.ConstructorArguments[0].Value : null;

    private static object? DataMemberKey(ISymbol member)
    {
        if (Attribute(member, KnownNames.DataMemberAttribute) is not { } attribute)
        {
            return null;
        }

        var named = attribute.NamedArguments.ToDictionary(a => a.Key, a => a.Value.Value, StringComparer.Ordinal);
        return named.TryGetValue("Order", out var order) && order is int o && o != -1 ? o
            : named.TryGetValue("Name", out var name) && name is string n ? n
            : member.Name;
    }

    private static bool KeyAsPropertyName(AttributeData contract)
        => (contract.ConstructorArguments.Length == 1 && contract.ConstructorArguments[0].Value is true)
           || contract.NamedArguments.Any(a => a.Key == "KeyAsPropertyName" && a.Value.Value is true);

    private static AttributeData? Attribute(ISymbol symbol, string metadataName)
        => symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } c && TypeSupport.MetadataName(c) == metadataName);

    private static string Signature(IMethodSymbol constructor)
        => $"{constructor.ContainingType.Name}({string.Join(", ", constructor.Parameters.Select(p => $"{p.Type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat)} {p.Name}"))})";

    private static string Literal(object key) => key is string s ? $"\"{s}\"" : key.ToString();
}
