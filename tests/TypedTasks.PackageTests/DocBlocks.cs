using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace TypedTasks.PackageTests;

/// <summary>
/// A fenced block of a Markdown page: <see cref="Line"/> is the page line of its first code line,
/// <see cref="Marker"/> the complete marker before it, if any, on page line <see cref="MarkerLine"/>.
/// </summary>
internal sealed record Fence(string Info, int Line, string Code, string? Marker, int MarkerLine);

/// <summary>
/// A C# block that docs/doc-examples.md calls complete: <c>&lt;!-- complete: Project/File.cs --&gt;</c>
/// (or <c>... run --&gt;</c>) on the line before its fence. Blocks of one page that name one
/// project are the files of one console project; a project with a <c>run</c> block is run.
/// </summary>
internal sealed record DocBlock(string Page, string PagePath, int Line, string Project, string FileName, bool Run, string Code);

internal static partial class DocBlocks
{
    public const string MarkerStart = "<!-- complete";

    /// <summary>The pages whose marked blocks are compiled: README.md and every page under docs/.</summary>
    public static IEnumerable<string> Pages(string root) =>
        new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    public static IReadOnlyList<Fence> Fences(string path, string page)
    {
        var lines = File.ReadAllLines(path);
        var fences = new List<Fence>();
        (int Line, string Text)? marker = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith(MarkerStart, StringComparison.Ordinal))
            {
                if (marker is { } earlier)
                {
                    throw Bad(page, earlier.Line, "this marker is followed by another marker, not by a ```csharp block");
                }

                marker = (i + 1, line);
            }
            else if (line.StartsWith("```", StringComparison.Ordinal))
            {
                // A fence of more backticks can hold one of fewer (docs/doc-examples.md does).
                var ticks = line.TakeWhile(c => c == '`').Count();
                var info = line[ticks..].Trim();
                var end = Array.FindIndex(lines, i + 1, l => l.Trim() is var t && t.Length >= ticks && t.All(c => c == '`'));
                if (end < 0)
                {
                    throw Bad(page, i + 1, "this code block is never closed with ```");
                }

                if (marker is { } m && info != "csharp")
                {
                    throw Bad(page, m.Line, $"a complete block must be a ```csharp block, not ```{info}");
                }

                fences.Add(new Fence(info, i + 2, string.Join('\n', lines[(i + 1)..end]) + "\n", marker?.Text, marker?.Line ?? 0));
                marker = null;
                i = end;
            }
            else if (marker is { } m && line.Length > 0)
            {
                throw Bad(page, m.Line, "a complete marker must stand on the line before a ```csharp block");
            }
        }

        return marker is { } last ? throw Bad(page, last.Line, "this marker is followed by no ```csharp block") : fences;
    }

    public static IReadOnlyList<DocBlock> Read(string path, string page)
    {
        var blocks = new List<DocBlock>();
        foreach (var fence in Fences(path, page).Where(f => f.Marker is not null))
        {
            var match = MarkerPattern().Match(fence.Marker!);
            if (!match.Success)
            {
                throw Bad(page, fence.MarkerLine, $"'{fence.Marker}' is not a complete marker: write <!-- complete: Project/File.cs --> or <!-- complete: Project/File.cs run -->");
            }

            var block = new DocBlock(page, path, fence.Line, match.Groups["project"].Value, match.Groups["file"].Value, match.Groups["run"].Success, fence.Code);
            if (blocks.Any(b => b.Project == block.Project && b.FileName == block.FileName))
            {
                throw Bad(page, fence.MarkerLine, $"{block.Project}/{block.FileName} is marked twice on this page");
            }

            blocks.Add(block);
        }

        return blocks;
    }

    private static InvalidDataException Bad(string page, int line, string what) => new($"{page}({line}): {what}.");

    [GeneratedRegex(@"^<!-- complete: (?<project>[A-Za-z_][A-Za-z0-9_.]*)/(?<file>[A-Za-z_][A-Za-z0-9_.]*\.cs)(?<run> run)? -->$")]
    private static partial Regex MarkerPattern();
}
