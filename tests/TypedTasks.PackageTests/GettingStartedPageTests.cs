using System;
using System.Linq;

namespace TypedTasks.PackageTests;

/// <summary>What docs/getting-started.md tells a reader to type, checked without packing.</summary>
public sealed class GettingStartedPageTests
{
    /// <summary>
    /// Inside the repository its Directory.Packages.props applies, and a project with its own
    /// package versions fails with NU1008: each way of making a project leaves the repository
    /// first (the package tests make theirs outside it too).
    /// </summary>
    [Theory]
    [InlineData("dotnet new typedtasks-worker")]
    [InlineData("dotnet new console")]
    public void Each_new_project_of_the_page_is_made_outside_the_repository(string command)
    {
        var fence = Assert.Single(DocBlocks.Fences(GettingStarted.PagePath, GettingStarted.Page), f => f.Info == "bash" && f.Code.Contains(command, StringComparison.Ordinal));
        var lines = fence.Code.Split('\n').Select(l => l.Split('#')[0].Trim()).ToList();
        var create = lines.FindIndex(l => l.StartsWith(command, StringComparison.Ordinal));
        Assert.True(lines.Take(create).Contains("cd .."), $"{GettingStarted.Page}({fence.Line}): '{command}' runs in the repository's root; leave it first (cd ..).");
    }
}
