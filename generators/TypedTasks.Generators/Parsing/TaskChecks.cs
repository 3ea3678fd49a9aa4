using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>The checks that need every task of the compilation at once: duplicate names and proxy collisions.</summary>
internal static class TaskChecks
{
    public static ImmutableArray<DiagnosticInfo> Collisions(ImmutableArray<TaskIdentity> identities)
    {
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        Report(identities, i => i.Name, DiagnosticDescriptors.DuplicateTaskName, diagnostics);
        Report(identities, i => i.ProxyName, DiagnosticDescriptors.ProxyNameCollision, diagnostics);
        return diagnostics.ToImmutable();
    }

    /// <summary>The keys (task names and proxy names) that more than one task claims.</summary>
    public static (HashSet<string> Names, HashSet<string> Proxies) Claimed(IEnumerable<TaskModel> models)
    {
        var list = models.ToList();
        return (Repeated(list.Select(m => m.Name)), Repeated(list.Select(m => m.ProxyName)));
    }

    private static HashSet<string> Repeated(IEnumerable<string> keys)
        => new(keys.GroupBy(k => k, System.StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key), System.StringComparer.Ordinal);

    private static void Report(ImmutableArray<TaskIdentity> identities, System.Func<TaskIdentity, string> key, Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, ImmutableArray<DiagnosticInfo>.Builder into)
    {
        foreach (var group in identities.GroupBy(key, System.StringComparer.Ordinal).OrderBy(g => g.Key, System.StringComparer.Ordinal))
        {
            var members = group.OrderBy(i => i.Location?.FilePath, System.StringComparer.Ordinal).ThenBy(i => i.Location?.Span.Start).ToList();
            for (var i = 1; i < members.Count; i++)
            {
                into.Add(DiagnosticInfo.Create(descriptor, members[i].Location, group.Key, members[0].Method, members[i].Method));
            }
        }
    }
}
