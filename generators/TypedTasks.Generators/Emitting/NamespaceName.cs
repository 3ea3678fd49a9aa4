using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedTasks.Generators.Emitting;

/// <summary>Turns a root namespace or assembly name into a valid C# namespace (e.g. "My-App" → "My_App").</summary>
internal static class NamespaceName
{
    public static string Sanitize(string name)
    {
        var parts = name.Split('.')
            .Where(p => p.Length > 0)
            .Select(p =>
            {
                var chars = p.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
                var part = new string(chars);
                if (char.IsDigit(part[0]))
                {
                    part = "_" + part;
                }

                return SyntaxFacts.GetKeywordKind(part) != SyntaxKind.None ? "@" + part : part;
            });
        return string.Join(".", parts);
    }
}
