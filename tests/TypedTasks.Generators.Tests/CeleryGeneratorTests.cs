using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>[CeleryTask] declarations: the generated CeleryTasks proxies and bodies, and TT0031/TT0032 for bad ones.</summary>
public sealed class CeleryGeneratorTests
{
    private const string Usings = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using TypedTasks.Celery;

        """;

    [Fact]
    public void Celery_declarations_get_proxies_and_bodies()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(Usings + """
            namespace Contoso.Py;

            public static partial class PythonTasks
            {
                [CeleryTask("proj.tasks.add")]
                public static partial Task<int> Add(int x, int y);

                [CeleryTask("proj.reports.totals", Queue = "reports")]
                internal static partial Task<Dictionary<string, double>?> Totals(IReadOnlyList<string> accounts, string @event);
            }
            """, "Contoso.Jobs");

        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
        var generated = result.Results.Single().GeneratedSources.Single(s => s.HintName == "CeleryTasks.g.cs");
        Snapshot.Match(generated.SourceText.ToString(), nameof(CeleryGeneratorTests), nameof(Celery_declarations_get_proxies_and_bodies), generated.HintName);
    }

    [Fact]
    public void TT0031_a_celery_declaration_that_returns_void_and_is_private_names_both()
    {
        var diagnostic = ExpectOnly("TT0031", """
            public static partial class PythonTasks
            {
                [CeleryTask("proj.tasks.log")]
                static partial void [|Log|](string message);
            }
            """);

        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("does not return Task<T>", message, System.StringComparison.Ordinal);
        Assert.Contains("neither public nor internal", message, System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0031_a_celery_declaration_with_a_body_of_its_own()
    {
        var diagnostic = ExpectOnly("TT0031", """
            public static partial class PythonTasks
            {
                [CeleryTask("proj.tasks.add")]
                public static partial Task<int> [|Add|](int x, int y);

                public static partial Task<int> Add(int x, int y) => Task.FromResult(x + y);
            }
            """);

        Assert.Contains("has a body of its own", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0031_a_celery_declaration_in_a_class_that_is_not_static()
    {
        var diagnostic = ExpectOnly("TT0031", """
            public partial class PythonTasks
            {
                [CeleryTask("proj.tasks.ping")]
                static partial void [|Ping|]();
            }
            """);

        Assert.Contains("not a top-level static partial class", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0032_an_empty_celery_name_and_nothing_is_generated_for_it()
    {
        var source = Usings + """
            public static partial class PythonTasks
            {
                [CeleryTask(" ")]
                public static partial Task<int> Add(int x, int y);
            }
            """;

        var (result, output, generator) = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(generator);
        Assert.Equal("TT0032", diagnostic.Id);
        Assert.Equal("Add", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.DoesNotContain(result.Results.Single().GeneratedSources, s => s.HintName == "CeleryTasks.g.cs");
        // The declaration keeps no body: the compiler says so beside TT0032.
        Assert.Equal(["CS8795"], GeneratorHarness.CompilerProblems(output).Select(d => d.Id));
    }

    private static Diagnostic ExpectOnly(string id, string markedSource)
    {
        var start = markedSource.IndexOf("[|", System.StringComparison.Ordinal);
        var end = markedSource.IndexOf("|]", System.StringComparison.Ordinal) - 2;
        var source = Usings + markedSource.Replace("[|", string.Empty).Replace("|]", string.Empty);
        var diagnostic = Assert.Single(GeneratorHarness.AllDiagnostics(source));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(source.Substring(Usings.Length + start, end - start), source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Contains("docs/diagnostics.md#" + id.ToLowerInvariant(), diagnostic.Descriptor.HelpLinkUri, System.StringComparison.Ordinal);
        return diagnostic;
    }
}
