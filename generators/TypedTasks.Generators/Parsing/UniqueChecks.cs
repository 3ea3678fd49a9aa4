using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// The checks of <c>UniqueFor</c> and <c>UniqueBy</c>: the names are carried parameters, a key has
/// a bound, and the arguments the key is made of encode the same way for equal values.
/// </summary>
internal static class UniqueChecks
{
    /// <summary>
    /// The positions, among the carried arguments, of those the task is unique by (empty: all, or
    /// the task is not unique); reports what is wrong. A UniqueFor given but not valid is
    /// reported by the time check alone.
    /// </summary>
    public static IReadOnlyList<int> Check(
        IMethodSymbol method,
        Func<IParameterSymbol, bool> isSupplied,
        AttributeSyntax? attributeSyntax,
        long? uniqueFor,
        bool uniqueForGiven,
        string[]? uniqueBy,
        string display,
        LocationInfo? methodLocation,
        List<DiagnosticInfo> diagnostics)
    {
        var location = TaskParser.ArgumentLocation(attributeSyntax, "UniqueBy", -1) ?? methodLocation;
        var carried = method.Parameters.Where(p => !isSupplied(p)).ToList();
        var positions = new List<int>();
        if (uniqueBy is { Length: > 0 })
        {
            if (!uniqueForGiven)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UniqueByWithoutUniqueFor, location, display));
            }

            foreach (var name in uniqueBy)
            {
                var position = Position(method, carried, name, out var why);
                if (position < 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UniqueByUnknownParameter, location, display, name, why));
                }
                else if (!positions.Contains(position))
                {
                    positions.Add(position);
                }
            }
        }

        if (uniqueFor is not null)
        {
            var keyed = positions.Count > 0 ? positions.Select(i => carried[i]) : carried;
            var keyLocation = uniqueBy is { Length: > 0 } ? location : TaskParser.ArgumentLocation(attributeSyntax, "UniqueFor", -1) ?? methodLocation;
            foreach (var parameter in keyed)
            {
                if (!IsStable(parameter.Type))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UniqueByUnstableType, keyLocation, display, parameter.Name, parameter.Type.ToDisplayString()));
                }
            }
        }

        positions.Sort();
        return positions.Count == carried.Count ? [] : positions;
    }

    /// <summary>
    /// The position of parameter <paramref name="name"/> among the <paramref name="carried"/> ones,
    /// or -1 with <paramref name="why"/> it names no carried argument.
    /// </summary>
    internal static int Position(IMethodSymbol method, List<IParameterSymbol> carried, string name, out string why)
    {
        var position = carried.FindIndex(p => p.Name == name);
        why = position >= 0 ? string.Empty
            : method.Parameters.Any(p => p.Name == name) ? "which the worker supplies and no message carries"
            : "which is not a parameter of the method";
        return position;
    }

    /// <summary>Whether equal values of a type always encode to the same bytes.</summary>
    internal static bool IsStable(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol { Rank: 1 } array)
        {
            return array.ElementType is not IArrayTypeSymbol && IsStable(array.ElementType);
        }

        if (type is not INamedTypeSymbol named)
        {
            return false;
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return IsStable(named.TypeArguments[0]);
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            return true;
        }

        return named.SpecialType switch
        {
            SpecialType.System_Boolean or SpecialType.System_Char
                or SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16
                or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
                or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal
                or SpecialType.System_String or SpecialType.System_DateTime => true,
            _ => TypeSupport.MetadataName(named) is "System.Guid" or "System.DateTimeOffset",
        };
    }
}
