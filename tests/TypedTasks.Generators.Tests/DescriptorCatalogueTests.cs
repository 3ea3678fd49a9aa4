using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using TypedTasks.Generators.Diagnostics;

namespace TypedTasks.Generators.Tests;

/// <summary>Every diagnostic has a well-formed id, a help link, a release row, a docs section and a test.</summary>
public sealed class DescriptorCatalogueTests
{
    [Fact]
    public void Every_descriptor_is_documented_tracked_and_tested()
    {
        var releases = File.ReadAllText(GeneratorHarness.RepoFile("generators", "TypedTasks.Generators", "AnalyzerReleases.Unshipped.md"));
        var docs = File.ReadAllText(GeneratorHarness.RepoFile("docs", "diagnostics.md"));
        var tests = File.ReadAllText(GeneratorHarness.RepoFile("tests", "TypedTasks.Generators.Tests", "DiagnosticTests.cs"))
            + File.ReadAllText(GeneratorHarness.RepoFile("tests", "TypedTasks.Generators.Tests", "CeleryGeneratorTests.cs"));
        var ids = DiagnosticDescriptors.All.Select(d => d.Id).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Matches(new Regex("^TT[0-9]{4}$"), descriptor.Id);
            Assert.Equal(DiagnosticDescriptors.HelpBase + descriptor.Id.ToLowerInvariant(), descriptor.HelpLinkUri);
            Assert.Contains($"{descriptor.Id} | TypedTasks | {descriptor.DefaultSeverity} |", releases, StringComparison.Ordinal);
            Assert.Contains($"## {descriptor.Id}", docs, StringComparison.Ordinal);
            Assert.Contains($"void {descriptor.Id}_", tests, StringComparison.Ordinal);
        }

        // The README's feature list gives the range of ids: it ends at the newest one.
        var readme = File.ReadAllText(GeneratorHarness.RepoFile("README.md"));
        Assert.Contains($"`TT0001`–`{ids.Max(StringComparer.Ordinal)}`", readme, StringComparison.Ordinal);
    }
}
