using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Finds the task assemblies among a compilation's references: those carrying the generated
/// <c>[assembly: TaskRegistry(typeof(...))]</c>. Only assemblies that reference the runtime are
/// looked into.
/// </summary>
internal static class ReferenceScanner
{
    public static EquatableArray<string> FindRegistries(Compilation compilation, CancellationToken cancellationToken)
    {
        var found = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!assembly.Modules.Any(m => m.ReferencedAssemblies.Any(r => r.Name == KnownNames.RuntimeAssembly)))
            {
                continue;
            }

            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass is { } type && TypeSupport.MetadataName(type) == KnownNames.TaskRegistryAttribute
                    && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is INamedTypeSymbol registry
                    && compilation.IsSymbolAccessibleWithin(registry, compilation.Assembly))
                {
                    found.Add(registry.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
                }
            }
        }

        return new EquatableArray<string>(found);
    }

    /// <summary>Whether the compilation can use the generated code at all (it references the runtime).</summary>
    /// <remarks>Not GetTypeByMetadataName, which gives null when another reference defines the same name.</remarks>
    public static bool ReferencesRuntime(Compilation compilation)
        => compilation.GetTypesByMetadataName(KnownNames.TaskRegistryAttribute)
            .Any(type => compilation.IsSymbolAccessibleWithin(type, compilation.Assembly));
}
