using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>The generated code for representative task declarations, compared with committed snapshots.</summary>
public sealed class SnapshotTests
{
    private static void Verify(string source, string testName, string? rootNamespace = "Contoso.Jobs")
    {
        var (result, output, diagnostics) = GeneratorHarness.Run(source, rootNamespace);
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
        var generated = result.Results.Single().GeneratedSources;
        Assert.NotEmpty(generated);
        foreach (var source1 in generated)
        {
            Snapshot.Match(source1.SourceText.ToString(), nameof(SnapshotTests), testName, source1.HintName);
        }
    }

    [Fact]
    public void Static_tasks_of_every_return_shape()
    {
        Verify("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using TypedTasks;

            namespace Contoso.Jobs;

            public sealed record Report(Guid Id, string Title, IReadOnlyList<decimal> Totals);

            public static class MathTasks
            {
                /// <summary>Adds two numbers.</summary>
                /// <param name="x">The first number.</param>
                /// <param name="y">The second number.</param>
                /// <returns>The sum.</returns>
                [Task]
                public static int Add(int x, int y) => x + y;

                [Task("reports.build", Queue = "reports", MaxRetries = 5, Timeout = "00:02:00", RetryDelay = "00:00:00.250", Expires = "01:00:00")]
                public static async Task<Report> BuildReport(Guid id, CancellationToken ct)
                {
                    await Task.Delay(1, ct);
                    return new Report(id, "r", [1m]);
                }

                [Task] public static void Log(string message) { }

                [Task] public static Task Flush() => Task.CompletedTask;

                [Task] public static ValueTask Ping(CancellationToken ct) => default;

                [Task] public static int Import(string file, TaskContext context, IProgress<Report> progress, CancellationToken ct) => context.Attempt;

                [Task] public static ValueTask<string?> Find(string? name, int limit = 10, long offset = 5L, double scale = 1.5, DayOfWeek day = DayOfWeek.Friday, string label = "a\"b") => new(name);

                [Task(ProxyName = "Total")] public static long Sum(params int[] values) => 0;

                [Task] public static int Escape(int @class, string @event) => @class;
            }
            """, nameof(Static_tasks_of_every_return_shape));
    }

    [Fact]
    public void Instance_tasks_resolved_from_DI()
    {
        Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using TypedTasks;

            namespace Contoso.Jobs;

            public interface ISmtp { Task SendAsync(string address, CancellationToken ct); }

            public sealed class EmailTasks(ISmtp smtp)
            {
                [Task]
                public Task SendWelcome(string address, CancellationToken ct) => smtp.SendAsync(address, ct);

                [Task]
                internal int Count(System.Collections.Generic.Dictionary<string, int[]> byDomain) => byDomain.Count;
            }
            """, nameof(Instance_tasks_resolved_from_DI));
    }

    [Fact]
    public void An_app_without_tasks_registers_the_task_libraries_it_references()
    {
        var library = GeneratorHarness.Run(
            GeneratorHarness.Compile("""
                using TypedTasks;
                namespace LibA;
                public static class Jobs { [Task] public static int Twice(int x) => 2 * x; }
                """, "LibA"),
            "LibA").Output;
        var libraryReference = library.ToMetadataReference();

        var app = GeneratorHarness.Compile("public static class Program { }", "App", [libraryReference]);
        var (result, output, diagnostics) = GeneratorHarness.Run(app, "App");
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompilerProblems(output));
        var generated = Assert.Single(result.Results.Single().GeneratedSources);
        Snapshot.Match(generated.SourceText.ToString(), nameof(SnapshotTests), nameof(An_app_without_tasks_registers_the_task_libraries_it_references), generated.HintName);
    }

    [Fact]
    public void Rate_and_concurrency_limited_tasks()
    {
        Verify("""
            using System.Threading;
            using TypedTasks;

            namespace Contoso.Jobs;

            public static class MailTasks
            {
                [Task(RateLimit = "100/s")]
                public static void Ping(string host) { }

                [Task(RateLimit = "20/m", RateLimitKey = nameof(tenant), MaxConcurrency = 4, ConcurrencyKey = nameof(mailbox))]
                public static int Send(CancellationToken ct, string tenant, long mailbox) => 0;

                [Task(MaxConcurrency = 1)]
                public static void Compact() { }

                [Task(RateLimit = "500/h", MaxConcurrency = 0)]
                public static void Report(int day) { }
            }
            """, nameof(Rate_and_concurrency_limited_tasks));
    }

    [Fact]
    public void Root_namespace_falls_back_to_the_assembly_name()
    {
        Verify("""
            using TypedTasks;
            public static class Jobs { [Task] public static bool Check(System.DateTimeOffset at, System.TimeSpan window) => true; }
            """, nameof(Root_namespace_falls_back_to_the_assembly_name), rootNamespace: null);
    }
}
