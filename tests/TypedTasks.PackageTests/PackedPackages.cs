using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace TypedTasks.PackageTests;

/// <summary>
/// One pack for every test of the packages, made the way getting-started.md says: a fresh copy of
/// the repository (its sources, none of its build output), then <c>bash scripts/pack.sh</c>.
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    /// <summary>Folders a fresh clone does not have.</summary>
    private static readonly HashSet<string> BuildOutput = new(StringComparer.Ordinal)
    {
        ".git", ".vs", "bin", "obj", "artifacts", "TestResults", "BenchmarkDotNet.Artifacts",
    };

    public string Root { get; } = DotnetCli.NewTempDirectory("typedtasks-packed");

    /// <summary>
    /// A version of its own, so that no package restored before (an earlier run, a 0.1.0 of the
    /// machine's NuGet cache) can stand in for the ones packed here.
    /// </summary>
    public string Version { get; } = $"0.2.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public string Clone => Path.Combine(Root, "typedtasks");

    public string Feed => Path.Combine(Root, "packages");

    /// <summary>Where the user's own projects go: beside the clone, with the doc's nuget.config.</summary>
    public string Work => Path.Combine(Root, "work");

    /// <summary>A template hive of its own, holding the packed templates, so that the user's stays as it is.</summary>
    public string TemplateHive => Path.Combine(Root, "template-hive");

    public string PackOutput { get; private set; } = string.Empty;

    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public async Task InitializeAsync()
    {
        CopySources(new DirectoryInfo(DotnetCli.RepoRoot), Directory.CreateDirectory(Clone));
        var (exit, output) = await DotnetCli.RunProgramAsync("bash", Clone, TimeSpan.FromMinutes(10), "scripts/pack.sh", "--output", Feed, "--version", Version);
        PackOutput = output;
        if (exit != 0)
        {
            throw new InvalidOperationException($"scripts/pack.sh failed with exit code {exit}:\n{output}");
        }

        Directory.CreateDirectory(Work);
        File.WriteAllText(Path.Combine(Work, "nuget.config"), GettingStarted.NuGetConfig(Feed));
        (exit, output) = await DotnetCli.RunAsync(Work, TimeSpan.FromMinutes(2), "new", "install", Package("TypedTasks.Templates"), "--debug:custom-hive", TemplateHive);
        if (exit != 0)
        {
            throw new InvalidOperationException($"dotnet new install of the packed templates failed with exit code {exit}:\n{output}");
        }
    }

    public async Task DisposeAsync()
    {
        // The packages of this run's version are of no use to any later restore.
        var (_, locals) = await DotnetCli.RunAsync(Root, TimeSpan.FromMinutes(1), "nuget", "locals", "global-packages", "--list");
        var cache = locals.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("global-packages:", StringComparison.Ordinal))?["global-packages:".Length..].Trim();
        foreach (var id in new[] { "typedtasks", "typedtasks.redis", "typedtasks.cli", "typedtasks.templates" })
        {
            if (cache is { Length: > 0 } && Directory.Exists(Path.Combine(cache, id, Version)))
            {
                Directory.Delete(Path.Combine(cache, id, Version), recursive: true);
            }
        }

        Directory.Delete(Root, recursive: true);
    }

    private static void CopySources(DirectoryInfo from, DirectoryInfo to)
    {
        foreach (var file in from.EnumerateFiles())
        {
            if (file.Name != ".git")
            {
                file.CopyTo(Path.Combine(to.FullName, file.Name));
            }
        }

        foreach (var dir in from.EnumerateDirectories().Where(d => !BuildOutput.Contains(d.Name)))
        {
            CopySources(dir, to.CreateSubdirectory(dir.Name));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedPackagesCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "Packed packages";
}
