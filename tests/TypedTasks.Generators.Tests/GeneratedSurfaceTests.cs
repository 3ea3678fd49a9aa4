using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// Generated code compiles into the user's assembly and binds to the runtime's public surface
/// (TaskClient's hidden enqueue methods, TaskProxy, TaskDescriptor, ITaskArguments...). That
/// surface is a contract with every compiled task assembly, so each member it uses must be
/// tracked in src/TypedTasks/PublicAPI.*.txt, where a change to it fails the build.
/// </summary>
public sealed class GeneratedSurfaceTests
{
    private const string Source = """
        using System.Threading;
        using System.Threading.Tasks;
        using TypedTasks;
        namespace App;
        public static class Jobs
        {
            [Task] public static int Add(int x, int y = 1) => x + y;
            [Task] public static void Nothing() { }
            [Task] public static Task Work(string text, CancellationToken ct) => Task.CompletedTask;
            [Task] public static ValueTask<long> Count(int[] values) => new(values.Length);
            [Task] public static ValueTask Ping() => default;
        }
        public sealed class Mail
        {
            [Task(Queue = "mail", MaxRetries = 3, Timeout = "00:01:00", RetryDelay = "00:00:05", Expires = "01:00:00")]
            public Task<string> Send(string to) => Task.FromResult(to);
        }
        """;

    private static readonly string[] Modifiers = ["abstract ", "const ", "override ", "static ", "virtual ", "sealed ", "readonly ", "~"];

    [Fact]
    public void Every_runtime_member_the_generated_code_uses_is_tracked_in_the_public_API_files()
    {
        var declared = new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }
            .SelectMany(name => File.ReadAllLines(GeneratorHarness.RepoFile("src", "TypedTasks", name)))
            .Select(Unmodified)
            .ToList();

        var (_, output, diagnostics) = GeneratorHarness.Run(Source, "App");
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));

        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)))
        {
            var model = output.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                var symbol = model.GetSymbolInfo(node).Symbol ?? model.GetTypeInfo(node).Type;
                // A namespace only the runtime declares (TypedTasks.Workflows) is no API member.
                if (symbol is not INamespaceSymbol && symbol?.ContainingAssembly?.Name == "TypedTasks")
                {
                    used.Add(ApiPrefix(symbol.OriginalDefinition));
                }
            }
        }

        // The generated code does use the hidden surface: a test that saw none would prove nothing.
        Assert.Contains("TypedTasks.TaskClient.EnqueueAsync", used);
        Assert.Contains("TypedTasks.TaskProxy.TaskProxy", used);
        Assert.Contains("TypedTasks.TaskDescriptor.TaskDescriptor", used);
        Assert.Contains("TypedTasks.ITaskArguments", used);

        var untracked = used.Where(prefix => !declared.Any(line => Declares(line, prefix))).ToList();
        Assert.True(untracked.Count == 0, "Used by generated code but not in src/TypedTasks/PublicAPI.*.txt: " + string.Join(", ", untracked));
    }

    // A type is its full name; a member is its type's full name, a dot and its name (a
    // constructor is named after its type, as the PublicAPI files write it). Overloads share a
    // name here: the analyzer itself checks each signature.
    private static string ApiPrefix(ISymbol symbol) => symbol switch
    {
        INamedTypeSymbol type => type.ToDisplayString(),
        IMethodSymbol { MethodKind: MethodKind.Constructor } constructor => $"{constructor.ContainingType.ToDisplayString()}.{constructor.ContainingType.Name}",
        IMethodSymbol { AssociatedSymbol: { } property } => $"{property.ContainingType.ToDisplayString()}.{property.Name}",
        _ => $"{symbol.ContainingType.ToDisplayString()}.{symbol.Name}",
    };

    private static string Unmodified(string line)
    {
        var trimmed = line.Trim();
        for (var stripped = true; stripped;)
        {
            stripped = false;
            foreach (var modifier in Modifiers.Where(m => trimmed.StartsWith(m, StringComparison.Ordinal)))
            {
                trimmed = trimmed[modifier.Length..];
                stripped = true;
            }
        }

        return trimmed;
    }

    private static bool Declares(string line, string prefix)
        => line == prefix || (line.StartsWith(prefix, StringComparison.Ordinal) && line[prefix.Length] is '(' or '<' or '.' or ' ');
}
