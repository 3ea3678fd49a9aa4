using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// The generator's BannedSymbols.txt: the banned-API analyzer ignores an entry that names no
/// symbol, so a misspelt id would ban nothing and pass the build unnoticed.
/// </summary>
public sealed class BannedSymbolsTests
{
    [Fact]
    public void Every_banned_id_names_a_symbol_and_says_why()
    {
        // The framework and Roslyn, as the generator compiles against them.
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var compilation = CSharpCompilation.Create(
            "Probe",
            references: platform.Append(typeof(Compilation).Assembly.Location).Distinct().Select(p => MetadataReference.CreateFromFile(p)));

        var entries = File.ReadAllLines(GeneratorHarness.RepoFile("generators", "TypedTasks.Generators", "BannedSymbols.txt"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(entries);
        Assert.Equal(entries.Count, entries.Distinct(StringComparer.Ordinal).Count());
        foreach (var entry in entries)
        {
            var separator = entry.IndexOf(';', StringComparison.Ordinal);
            Assert.True(separator > 0, $"'{entry}' has no ';' followed by the reason and what to use instead.");
            Assert.False(string.IsNullOrWhiteSpace(entry[(separator + 1)..]), $"'{entry}' gives no reason.");
            var id = entry[..separator];
            Assert.True(
                DocumentationCommentId.GetSymbolsForDeclarationId(id, compilation).Length > 0,
                $"'{id}' in BannedSymbols.txt names no symbol of the framework or Roslyn, so it bans nothing.");
        }
    }
}
