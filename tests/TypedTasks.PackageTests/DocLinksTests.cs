using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace TypedTasks.PackageTests;

/// <summary>
/// The links of README.md and the pages under docs/ lead somewhere: a relative link to a file or
/// folder of the repository that is there, and a link to a heading of one of these pages to a
/// heading that is there, by the anchor a Markdown viewer makes of it (GitHub's rule: lower case,
/// punctuation and symbols dropped, spaces made hyphens, a repeated heading numbered).
/// </summary>
public sealed partial class DocLinksTests
{
    [Fact]
    public void Every_link_of_the_docs_leads_to_a_file_or_a_heading_that_is_there()
    {
        var root = Path.GetFullPath(DotnetCli.RepoRoot);
        var pages = DocBlocks.Pages(root).ToDictionary(p => Path.GetRelativePath(root, p).Replace('\\', '/'), File.ReadAllText, StringComparer.Ordinal);
        var broken = Broken(pages, path => File.Exists(Path.Combine(root, path)) || Directory.Exists(Path.Combine(root, path)));
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void A_link_to_a_missing_file_or_heading_is_reported_with_its_page()
    {
        // Input: two pages; links to a heading there, to one that is not, to a file that is not,
        // with a title, in angle brackets, by reference, and a heading and a link inside a fenced
        // block (neither counts). Expected: exactly the three broken links, each with its page.
        var pages = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["README.md"] = """
                # Title
                See [a](docs/b.md#a-heading "the heading"), [gone](docs/b.md#inside-a-fence),
                [missing](<docs/no such.md>) and [by reference][r].

                [r]: docs/c.md#anything
                """,
            ["docs/b.md"] = """
                ## A heading

                ````markdown
                ## Inside a fence
                ```csharp
                [not a link](nowhere.md)
                ```
                ````
                """,
        };
        var broken = Broken(pages, path => path is "docs/b.md" or "docs");
        Assert.Equal(
            [
                "README.md: #inside-a-fence is no heading of docs/b.md",
                "README.md: docs/no such.md is not there",
                "README.md: docs/c.md is not there",
            ],
            broken);
    }

    [Fact]
    public void A_heading_gives_the_anchor_a_viewer_makes_of_it()
    {
        // Input: headings with punctuation, an en dash, code, a link and an entity, one indented,
        // and one repeated. Expected: GitHub's anchors for them.
        var anchors = Anchors("""
            # Performance
            ### Fewer wake-ups, merged (2026-11-30, 16:49–16:52 UTC)
            ## `ITaskInspector` and [the CLI](cli.md) #
              ## Queues &amp; workers
            ## Performance
            """);
        Assert.Equal(["performance", "fewer-wake-ups-merged-2026-11-30-16491652-utc", "itaskinspector-and-the-cli", "queues--workers", "performance-1"], anchors);
    }

    /// <summary>The broken links of the pages (path relative to the repository, with '/' → text).</summary>
    private static List<string> Broken(IReadOnlyDictionary<string, string> pages, Func<string, bool> exists)
    {
        var anchors = pages.ToDictionary(p => p.Key, p => Anchors(p.Value).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var broken = new List<string>();
        foreach (var (page, text) in pages)
        {
            foreach (var target in Targets(OutsideFences(text)))
            {
                if (Scheme().IsMatch(target))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
                var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
                var path = file.Length == 0 ? page : Normalize(Path.Combine(Path.GetDirectoryName(page) ?? string.Empty, file));
                if (file.Length > 0 && !pages.ContainsKey(path) && !exists(path))
                {
                    broken.Add($"{page}: {file} is not there");
                }
                else if (anchor is not null && anchors.TryGetValue(path, out var there) && !there.Contains(anchor))
                {
                    broken.Add($"{page}: #{anchor} is no heading of {path}");
                }
            }
        }

        return broken;
    }

    private static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/'))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                else
                {
                    parts.Add(part);
                }
            }
            else if (part is not ("." or ""))
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    /// <summary>The targets of a page's inline links (a title and angle brackets allowed) and of its link definitions.</summary>
    private static IEnumerable<string> Targets(string text)
    {
        foreach (Match link in InlineLink().Matches(text))
        {
            yield return link.Groups["angled"].Success ? link.Groups["angled"].Value : link.Groups["plain"].Value;
        }

        foreach (Match definition in LinkDefinition().Matches(text))
        {
            yield return definition.Groups["target"].Value;
        }
    }

    private static List<string> Anchors(string text)
    {
        var anchors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(OutsideFences(text)))
        {
            var title = Entity().Replace(LinkText().Replace(heading.Groups["title"].Value, "${text}"), string.Empty);
            var anchor = new StringBuilder();
            foreach (var c in title.Trim().ToLowerInvariant())
            {
                if (c is ' ' or '-' or '_' || char.IsLetterOrDigit(c) || char.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
                {
                    anchor.Append(c == ' ' ? '-' : c);
                }
            }

            var name = anchor.ToString();
            if (seen.TryGetValue(name, out var count))
            {
                seen[name] = count + 1;
                name = $"{name}-{count + 1}";
            }
            else
            {
                seen[name] = 0;
            }

            anchors.Add(name);
        }

        return anchors;
    }

    /// <summary>
    /// The page without its fenced blocks: a fence of three or more backticks or tildes closes at
    /// a line of the same character, at least as long, with nothing after it.
    /// </summary>
    private static string OutsideFences(string text)
    {
        var kept = new StringBuilder();
        (char Mark, int Length)? open = null;
        foreach (var line in text.Split('\n'))
        {
            var fence = Fence().Match(line);
            if (open is { } f)
            {
                if (fence.Success && fence.Groups["mark"].Value[0] == f.Mark && fence.Groups["mark"].Length >= f.Length && fence.Groups["info"].Value.Trim().Length == 0)
                {
                    open = null;
                }
            }
            else if (fence.Success)
            {
                open = (fence.Groups["mark"].Value[0], fence.Groups["mark"].Length);
            }
            else
            {
                kept.Append(line).Append('\n');
            }
        }

        return kept.ToString();
    }

    [GeneratedRegex(@"^ {0,3}(?<mark>`{3,}|~{3,})(?<info>.*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^ {0,3}#{1,6}[ \t]+(?<title>.*?)(?:[ \t]+#+)?[ \t]*\r?$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();

    [GeneratedRegex(@"&[a-zA-Z0-9#]+;")]
    private static partial Regex Entity();

    [GeneratedRegex(@"\]\((?:<(?<angled>[^>]+)>|(?<plain>[^)\s]+))(?:\s+(?:""[^""]*""|'[^']*'))?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^ {0,3}\[[^\]]+\]:[ \t]*(?<target>\S+)", RegexOptions.Multiline)]
    private static partial Regex LinkDefinition();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();
}
