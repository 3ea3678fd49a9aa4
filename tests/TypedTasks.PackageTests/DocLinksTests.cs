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
    public void Every_link_to_a_heading_of_the_docs_names_a_heading_that_is_there()
    {
        var pages = DocBlocks.Pages(DotnetCli.RepoRoot).ToDictionary(Path.GetFullPath, StringComparer.Ordinal);
        var anchors = pages.Keys.ToDictionary(path => path, path => Anchors(File.ReadAllText(path)), StringComparer.Ordinal);
        var broken = new List<string>();
        foreach (var path in pages.Keys)
        {
            var text = File.ReadAllText(path);
            foreach (Match link in HeadingLink().Matches(WithoutCode(text)))
            {
                var target = link.Groups["page"].Value.Length == 0
                    ? path
                    : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(link.Groups["page"].Value)));
                if (anchors.TryGetValue(target, out var there) && !there.Contains(link.Groups["anchor"].Value))
                {
                    broken.Add($"{Path.GetRelativePath(DotnetCli.RepoRoot, path)}: #{link.Groups["anchor"].Value} is no heading of {Path.GetRelativePath(DotnetCli.RepoRoot, target)}");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void Every_relative_link_of_the_docs_names_a_file_or_folder_that_is_there()
    {
        var broken = new List<string>();
        foreach (var path in DocBlocks.Pages(DotnetCli.RepoRoot))
        {
            foreach (Match link in RelativeLink().Matches(WithoutCode(File.ReadAllText(path))))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(link.Groups["path"].Value)));
                if (!File.Exists(target) && !Directory.Exists(target))
                {
                    broken.Add($"{Path.GetRelativePath(DotnetCli.RepoRoot, path)}: {link.Groups["path"].Value} is not there");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void A_heading_gives_the_anchor_a_viewer_makes_of_it()
    {
        // Input: headings with punctuation, an en dash, code and a link, and one repeated.
        // Expected: GitHub's anchors for them.
        var anchors = Anchors("""
            # Performance
            ### Fewer wake-ups, merged (2026-11-30, 16:49–16:52 UTC)
            ## `ITaskInspector` and [the CLI](cli.md)
            ## Performance
            """);
        Assert.Equal(["performance", "fewer-wake-ups-merged-2026-11-30-16491652-utc", "itaskinspector-and-the-cli", "performance-1"], anchors);
    }

    private static List<string> Anchors(string text)
    {
        var anchors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(WithoutCode(text)))
        {
            var title = LinkText().Replace(heading.Groups["title"].Value, "${text}");
            var anchor = new StringBuilder();
            foreach (var c in title.Trim().ToLowerInvariant())
            {
                var category = char.GetUnicodeCategory(c);
                if (c is ' ' or '-' or '_' || char.IsLetterOrDigit(c) || category is UnicodeCategory.NonSpacingMark)
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

    // Fenced blocks hold no headings or links of the page.
    private static string WithoutCode(string text) => Fenced().Replace(text, string.Empty);

    [GeneratedRegex(@"^#{1,6}[ \t]+(?<title>.*?)[ \t]*#*[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();

    [GeneratedRegex(@"\]\((?<page>[^)#\s]*\.md)?#(?<anchor>[^)\s]+)\)")]
    private static partial Regex HeadingLink();

    // A link's target before any #anchor, when it is no URL (no scheme) and no anchor alone.
    [GeneratedRegex(@"\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:)(?<path>[^)#\s]+)(#[^)\s]*)?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"^[ \t]*```.*?^[ \t]*```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fenced();
}
