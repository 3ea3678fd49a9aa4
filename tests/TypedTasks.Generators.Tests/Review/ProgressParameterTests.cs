using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests.Review;

/// <summary>docs/concepts.md: a task may declare one IProgress&lt;T&gt; parameter.</summary>
public sealed class ProgressParameterTests
{
    [Fact]
    public void A_task_with_two_progress_parameters_is_a_compile_error()
    {
        // Both reporters would write the task's one progress value, as two types, and the run
        // flushes only the reporter made last: the proxy's Progress reads the first type.
        const string source = """
            using System;
            using TypedTasks;

            public static class J
            {
                [Task] public static void Run(int n, IProgress<int> done, IProgress<string> stage) { }
            }
            """;
        var errors = GeneratorHarness.AllDiagnostics(source).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count > 0, "a task with two IProgress<T> parameters compiles without an error");
    }
}
