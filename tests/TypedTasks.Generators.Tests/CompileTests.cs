using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>The generated code compiles with no warning under nullable, doc generation and warnings as errors.</summary>
public sealed class CompileTests
{
    [Fact]
    public void Generated_code_compiles_clean_with_every_warning_an_error()
    {
        const string source = """
            #nullable enable
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using TypedTasks;

            namespace App;

            /// <summary>A request.</summary>
            public sealed record Request(string? Name, List<int?> Values, Dictionary<string, Guid[]> Map);

            /// <summary>Tasks.</summary>
            public sealed class Jobs
            {
                /// <summary>Runs with <see cref="Request"/> and <paramref name="ct"/>.</summary>
                /// <param name="request">The <see cref="Request"/>.</param>
                /// <param name="ct">Stops it.</param>
                /// <returns>Nothing.</returns>
                [Task] public Task<Request?> Run(Request request, CancellationToken ct) => Task.FromResult<Request?>(request);

                /// <summary>Sums.</summary>
                [Task] public static ValueTask<long> Sum(int[] values, DateTime? at = null, string? tag = null) => new(0L);

                /// <summary>Nothing at all.</summary>
                [Task] public static void Nothing() { }
            }
            """;
        var (_, output, diagnostics) = GeneratorHarness.Run(source, "App");
        Assert.Empty(diagnostics);
        var problems = GeneratorHarness.CompilerProblems(output).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(3, output.SyntaxTrees.Count());
    }

    [Fact]
    public void A_wrong_argument_type_is_a_compile_error_at_the_call()
    {
        const string source = """
            using System.Threading.Tasks;
            using TypedTasks;
            namespace App;
            public static class Jobs { [Task] public static int Add(int x, int y) => x + y; }
            public static class Caller
            {
                public static async Task<int> Good() => await await Tasks.Add.EnqueueAsync(2, 3);
                public static async Task<int> Bad() => await await Tasks.Add.EnqueueAsync("2", 3);
                public static async Task<int> Missing() => await await Tasks.Add.EnqueueAsync(2);
            }
            """;
        var (_, output, _) = GeneratorHarness.Run(source, "App");
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Id == "CS1503" && e.GetMessage().Contains("string", System.StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Id == "CS7036" && e.GetMessage().Contains("'y'", System.StringComparison.Ordinal));
    }

    [Fact]
    public void Task_WhenAll_over_a_Select_of_enqueues_compiles()
    {
        const string source = """
            using System.Collections.Generic;
            using System.Linq;
            using System.Threading.Tasks;
            using TypedTasks;
            namespace App;
            public static class Jobs
            {
                [Task] public static int Add(int x, int y) => x + y;
                [Task] public static void Log(string line) { }
            }
            public static class Caller
            {
                public static async Task<AsyncResult<int>[]> Sums(IEnumerable<int> items)
                    => await Task.WhenAll(items.Select(i => Tasks.Add.EnqueueAsync(i, i)));

                public static Task<AsyncResult[]> Lines(IEnumerable<string> lines)
                    => Task.WhenAll(lines.Select(l => Tasks.Log.EnqueueAsync(l)));

                public static Task<IReadOnlyList<AsyncResult<int>>[]> Batches(IEnumerable<int> items)
                    => Task.WhenAll(items.Chunk(100).Select(c => Tasks.Add.EnqueueManyAsync(c.Select(i => (i, i)))));

                public static async Task<AsyncResult<int>> First(IEnumerable<int> items)
                    => await await Task.WhenAny(items.Select(i => Tasks.Add.EnqueueAsync(i, 1)));
            }
            """;
        var (_, output, diagnostics) = GeneratorHarness.Run(source, "App");
        Assert.Empty(diagnostics);
        var problems = GeneratorHarness.CompilerProblems(output).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_generated_dispatch_table_runs_the_task_without_reflection()
    {
        const string source = """
            using TypedTasks;
            namespace App;
            public static class Jobs { [Task] public static int Add(int x, int y) => x + y; }
            """;
        var (_, output, _) = GeneratorHarness.Run(source, "App");
        var assembly = GeneratorHarness.Load(output);
        var registry = (ITaskRegistry)assembly.GetType("App.TypedTasksRegistry")!.GetProperty("Instance")!.GetValue(null)!;
        var task = Assert.Single(registry.Tasks);
        Assert.Equal("App.Jobs.Add", task.Name);
        Assert.Equal("default", task.Queue);
    }

    [Fact]
    public void The_descriptor_names_the_arguments_the_message_carries_in_order()
    {
        // A keyword parameter loses its @, the worker's token is not carried, and a task without
        // arguments has an empty list (not null, which means "made by an older generator").
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedTasks;
            namespace App;
            public static class Jobs
            {
                [Task] public static Task Send(string to, CancellationToken ct, int @class = 2) => Task.CompletedTask;
                [Task] public static void Nothing() { }
            }
            """;
        var (_, output, diagnostics) = GeneratorHarness.Run(source, "App");
        Assert.Empty(diagnostics);
        var assembly = GeneratorHarness.Load(output);
        var registry = (ITaskRegistry)assembly.GetType("App.TypedTasksRegistry")!.GetProperty("Instance")!.GetValue(null)!;
        var tasks = registry.Tasks.ToDictionary(t => t.Name);
        Assert.Equal(["to", "class"], tasks["App.Jobs.Send"].ParameterNames);
        Assert.Equal([], tasks["App.Jobs.Nothing"].ParameterNames!);
    }
}
