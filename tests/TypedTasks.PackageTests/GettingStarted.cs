using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace TypedTasks.PackageTests;

/// <summary>The parts of docs/getting-started.md that the package tests follow as a user would.</summary>
internal static partial class GettingStarted
{
    public const string Page = "docs/getting-started.md";

    private const string FeedPlaceholder = "/path/to/typedtasks/artifacts/packages";

    public static string PagePath => Path.Combine(DotnetCli.RepoRoot, Page);

    /// <summary>The page's nuget.config, naming <paramref name="feed"/> where it names the packed folder.</summary>
    public static string NuGetConfig(string feed)
    {
        var config = Xml("<packageSources>");
        Assert.Contains(FeedPlaceholder, config, StringComparison.Ordinal);
        return config.Replace(FeedPlaceholder, feed, StringComparison.Ordinal);
    }

    /// <summary>
    /// The page's package references, with <paramref name="version"/> for the TypedTasks packages:
    /// the page names the repository's own version, which this checks.
    /// </summary>
    public static string PackageReferences(string version)
    {
        var references = Xml("<PackageReference Include=\"TypedTasks\"");
        var repositoryVersion = RepositoryVersion().Match(File.ReadAllText(Path.Combine(DotnetCli.RepoRoot, "Directory.Build.props"))).Groups[1].Value;
        var named = $"Include=\"TypedTasks\" Version=\"{repositoryVersion}\"";
        Assert.Contains(named, references, StringComparison.Ordinal);
        return references.Replace(named, $"Include=\"TypedTasks\" Version=\"{version}\"", StringComparison.Ordinal);
    }

    /// <summary>The complete blocks of the page that make the project <paramref name="project"/>.</summary>
    public static DocBlock[] Blocks(string project)
    {
        var blocks = DocBlocks.Read(PagePath, Page).Where(b => b.Project == project).ToArray();
        Assert.NotEmpty(blocks);
        return blocks;
    }

    private static string Xml(string containing) =>
        Assert.Single(DocBlocks.Fences(PagePath, Page), f => f.Info == "xml" && f.Code.Contains(containing, StringComparison.Ordinal)).Code;

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex RepositoryVersion();
}
