using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace TypedTasks.PackageTests;

/// <summary>
/// The C# blocks that README.md and docs/ mark complete (docs/doc-examples.md) compile against the
/// repository's projects, the generator as an Analyzer, and the ones marked <c>run</c> run to a
/// clean exit on the in-memory broker.
/// </summary>
public sealed class DocsCompileTests
{
    [Fact]
    public async Task Every_complete_block_of_the_docs_compiles_and_the_runnable_ones_run()
    {
        var blocks = DocBlocks.Pages(DotnetCli.RepoRoot)
            .SelectMany(path => DocBlocks.Read(path, Path.GetRelativePath(DotnetCli.RepoRoot, path)))
            .ToList();

        // The pages whose examples a newcomer copies first must stay marked.
        Assert.Contains(blocks, b => b is { Page: "README.md", Run: true });
        Assert.Contains(blocks, b => b is { Page: "docs/getting-started.md", Project: "Shop", Run: true });

        var failures = await CompileAndRunAsync(blocks);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task A_complete_block_that_does_not_compile_fails_naming_its_page_and_line()
    {
        var page = Path.Combine(DotnetCli.NewTempDirectory("typedtasks-docpage"), "broken.md");
        File.WriteAllText(page, """
            # A page

            <!-- complete: Broken/Program.cs run -->
            ```csharp
            Console.WriteLine("fine");
            int count = "three";
            ```
            """);

        var failures = await CompileAndRunAsync(DocBlocks.Read(page, "broken.md"));

        var failure = Assert.Single(failures);
        Assert.StartsWith("broken.md(6,", failure, StringComparison.Ordinal);
        Assert.Contains("CS0029", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<!-- complete: Shop -->\n```csharp\nclass A;\n```\n", "page.md(1): '<!-- complete: Shop -->' is not a complete marker")]
    [InlineData("<!-- complete: Shop/A.cs -->\n```xml\n<a/>\n```\n", "page.md(1): a complete block must be a ```csharp block")]
    [InlineData("<!-- complete: Shop/A.cs -->\nSome prose.\n```csharp\nclass A;\n```\n", "page.md(1): a complete marker must stand on the line before")]
    [InlineData("text\n\n<!-- complete: Shop/A.cs -->\n", "page.md(3): this marker is followed by no ```csharp block")]
    [InlineData("<!-- complete: Shop/A.cs -->\n```csharp\nclass A;\n```\n<!-- complete: Shop/A.cs -->\n```csharp\nclass B;\n```\n", "page.md(5): Shop/A.cs is marked twice")]
    [InlineData("```csharp\nclass A;\n", "page.md(1): this code block is never closed")]
    public void A_marker_that_cannot_be_read_fails_naming_its_page_and_line(string markdown, string expected)
    {
        var page = Path.Combine(DotnetCli.NewTempDirectory("typedtasks-docpage"), "page.md");
        File.WriteAllText(page, markdown);

        var error = Assert.Throws<InvalidDataException>(() => DocBlocks.Read(page, "page.md"));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_marked_block_keeps_its_page_line_and_unmarked_blocks_are_fragments()
    {
        var page = Path.Combine(DotnetCli.NewTempDirectory("typedtasks-docpage"), "page.md");
        File.WriteAllText(page, "```csharp\nfragment();\n```\n\n<!-- complete: Shop/Program.cs run -->\n```csharp\nSystem.Console.WriteLine();\n```\n");

        var block = Assert.Single(DocBlocks.Read(page, "page.md"));
        Assert.Equal(("Shop", "Program.cs", true, 7, "System.Console.WriteLine();\n"), (block.Project, block.FileName, block.Run, block.Line, block.Code));
    }

    /// <summary>
    /// Builds the blocks as console projects (one per page and project name, all in one build) and
    /// runs those with a <c>run</c> block. Returns one message per failure, each starting with the
    /// page and line it is about.
    /// </summary>
    private static async Task<IReadOnlyList<string>> CompileAndRunAsync(IReadOnlyList<DocBlock> blocks)
    {
        var root = DotnetCli.NewTempDirectory("typedtasks-docs");
        try
        {
            return await CompileAndRunAsync(blocks, root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<IReadOnlyList<string>> CompileAndRunAsync(IReadOnlyList<DocBlock> blocks, string root)
    {
        var projects = blocks
            .GroupBy(b => (b.Page, b.Project))
            .Select((group, i) => (Directory: Path.Combine(root, i.ToString(CultureInfo.InvariantCulture), group.Key.Project), Blocks: group.ToList()))
            .ToList();
        var references = ConsumerProject.ProjectReferences() + ConsumerProject.RedisProjectReference() + ConsumerProject.CeleryProjectReference() + ConsumerProject.HostingReference;
        foreach (var (directory, files) in projects)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, files[0].Project + ".csproj"), ConsumerProject.Project(references, exe: files.Exists(b => b.Run)));
            foreach (var block in files)
            {
                // The compiler then names the page and its line in every error of the block.
                File.WriteAllText(Path.Combine(directory, block.FileName), $"#line {block.Line} \"{block.PagePath}\"\n{block.Code}");
            }
        }

        File.WriteAllText(Path.Combine(root, "docs.slnx"), $"""
            <Solution>
            {string.Concat(projects.Select(p => $"  <Project Path=\"{Path.GetRelativePath(root, p.Directory)}/{p.Blocks[0].Project}.csproj\" />\n"))}</Solution>
            """);
        var (buildExit, buildOutput) = await DotnetCli.RunAsync(root, ConsumerProject.Limit, "build", "docs.slnx", "-c", "Release");
        if (buildExit != 0)
        {
            var errors = buildOutput.Split('\n')
                .Select(line => line.Trim())
                .Where(line => line.Contains(": error ", StringComparison.Ordinal))
                .Select(line => blocks.Aggregate(line, (text, b) => text.Replace(b.PagePath, b.Page, StringComparison.Ordinal)))
                .Select(line => line[..(line.LastIndexOf(" [", StringComparison.Ordinal) is var at and > 0 ? at : line.Length)])
                .Distinct(StringComparer.Ordinal)
                .ToList();
            return errors.Count > 0 ? errors : [$"the documentation's blocks did not build:\n{buildOutput}"];
        }

        var failures = new List<string>();
        foreach (var (directory, files) in projects.Where(p => p.Blocks.Exists(b => b.Run)))
        {
            var run = files.First(b => b.Run);
            var program = Path.Combine(directory, "bin", "Release", "net10.0", run.Project + ".dll");
            try
            {
                var (exit, output) = await DotnetCli.RunAsync(directory, TimeSpan.FromMinutes(2), program);
                if (exit != 0)
                {
                    failures.Add($"{run.Page}({run.Line}): {run.Project} exited with code {exit}:\n{output}");
                }
            }
            catch (TimeoutException e)
            {
                // For example a task sent to a queue that the example's worker does not serve.
                failures.Add($"{run.Page}({run.Line}): {run.Project} never ended: {e.Message}");
            }
        }

        return failures;
    }
}
