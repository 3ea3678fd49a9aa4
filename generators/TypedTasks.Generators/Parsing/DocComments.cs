using System.Collections.Generic;
using System.Linq;
using System.Xml;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Reads a method's <c>///</c> comment from its leading trivia, as text lines without the
/// slashes. Reading trivia rather than the symbol's documentation XML works whether or not the
/// project generates a documentation file.
/// </summary>
internal static class DocComments
{
    /// <summary>
    /// The comment lines to put on the proxy: the method's, less its <c>returns</c> (the proxy
    /// returns a handle) and the <c>param</c> of parameters the worker supplies. Empty when the
    /// method has none or its comment is not well-formed XML.
    /// </summary>
    public static IEnumerable<string> ForProxy(MethodDeclarationSyntax? method, ISet<string> droppedParameters)
    {
        var lines = Read(method).ToList();
        if (lines.Count == 0)
        {
            return [];
        }

        try
        {
            var root = XElement.Parse("<doc>" + string.Join("\n", lines) + "</doc>", LoadOptions.PreserveWhitespace);
            foreach (var element in root.Elements().ToList())
            {
                if (element.Name.LocalName == "returns"
                    || (element.Name.LocalName == "param" && droppedParameters.Contains((string?)element.Attribute("name") ?? string.Empty)))
                {
                    element.Remove();
                }
            }

            // A cref resolves against the usings of the method's file, which the generated file
            // lacks: keep the name as code text. A paramref to a dropped parameter likewise.
            foreach (var reference in root.Descendants().Where(e => e.Attribute("cref") is not null || (e.Name.LocalName == "paramref" && droppedParameters.Contains((string?)e.Attribute("name") ?? string.Empty))).ToList())
            {
                var target = (string?)reference.Attribute("cref") ?? (string?)reference.Attribute("name") ?? string.Empty;
                reference.ReplaceWith(new XElement("c", target.Length > 2 && target[1] == ':' ? target.Substring(2) : target));
            }

            var text = string.Concat(root.Nodes().Select(n => n.ToString(SaveOptions.DisableFormatting)));
            return text.Split('\n').Select(l => l.TrimEnd()).SkipWhile(l => l.Length == 0).Reverse().SkipWhile(l => l.Length == 0).Reverse().ToList();
        }
        catch (XmlException)
        {
            return [];
        }
    }

    private static IEnumerable<string> Read(MethodDeclarationSyntax? method)
    {
        if (method is null)
        {
            return [];
        }

        var lines = new List<string>();
        foreach (var trivia in method.GetLeadingTrivia())
        {
            if (!trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) && !trivia.IsKind(SyntaxKind.SingleLineCommentTrivia))
            {
                continue;
            }

            foreach (var raw in trivia.ToFullString().Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("///", System.StringComparison.Ordinal))
                {
                    lines.Add(line.Substring(3).TrimEnd('\r'));
                }
            }
        }

        return lines.Select(l => l.Length > 0 && l[0] == ' ' ? l.Substring(1) : l);
    }
}
