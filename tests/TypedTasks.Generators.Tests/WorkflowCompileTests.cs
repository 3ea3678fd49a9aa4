using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>A workflow step that does not accept the previous result does not compile (docs/diagnostics.md, "Workflows").</summary>
public sealed class WorkflowCompileTests
{
    private const string Tasks = """
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using TypedTasks;
        using TypedTasks.Workflows;
        namespace App;
        public static class Jobs
        {
            [Task] public static int Add(int x, int y) => x + y;
            [Task] public static int Square(int value) => value * value;
            [Task] public static string Shout(string text) => text.ToUpperInvariant();
            [Task] public static int Sum(int[] values) => values.Sum();
            [Task] public static string Describe(int value, string unit) => $"{value} {unit}";
            [Task] public static string Summarize(TaskOutcome<int>[] outcomes) => outcomes.Length.ToString();
            [Task] public static void Record(int value) { }
            [Task] public static Task RecordAll(int[] values, string channel) => Task.CompletedTask;
        }
        """;

    [Fact]
    public void Matching_steps_compile_and_each_mismatched_step_is_an_error_at_its_line()
    {
        const string callers = """
            public static class Caller
            {
                static IEnumerable<TaskCall<int>> Calls() => Enumerable.Range(0, 3).Select(i => Tasks.Add.Call(i, i));
                public static Task<AsyncResult<string>> Chain() => Tasks.Add.Call(2, 3).Then(Tasks.Square).Then(Tasks.Describe.Bind("cm")).EnqueueAsync();
                public static Task<AsyncResult<int>> Chord() => TaskGroup.Of(Calls()).Then(Tasks.Sum).Then(Tasks.Square).EnqueueAsync();
                public static Task<AsyncResult<int[]>> Map() => Tasks.Square.Map(new[] { 1, 2 }).EnqueueAsync();
                public static Task<AsyncResult<string>> Settled() => TaskGroup.Of(Calls()).AllSettled().Then(Tasks.Summarize).EnqueueAsync();
                public static Task<AsyncResult> Last() => Tasks.Add.Call(1, 2).Then(Tasks.Square).Then(Tasks.Record).EnqueueAsync();
                public static Task<AsyncResult> LastOfChord() => TaskGroup.Of(Calls()).Then(Tasks.RecordAll.Bind("ops")).EnqueueAsync();
                public static Task<AsyncResult<int[]>> Mixed() => TaskGroup.Of(Tasks.Add.Call(1, 2).Then(Tasks.Square), Tasks.Add.Call(3, 4)).EnqueueAsync();
                public static Task<AsyncResult<int>> ChordOfChains() => TaskGroup.Of(Calls().Select(c => c.Then(Tasks.Square))).Then(Tasks.Sum).EnqueueAsync();
                public static Task<AsyncResult<int[][]>> Groups() => TaskGroup.Of(Tasks.Square.Map(new[] { 1 }), Tasks.Square.Map(new[] { 2, 3 })).EnqueueAsync();
                public static Task<AsyncResult<int>> Fan() => Tasks.Add.Call(1, 2).ThenAll(Tasks.Square, Tasks.Square).Then(Tasks.Sum).EnqueueAsync();
                public static object Bad1() => Tasks.Add.Call(1, 2).Then(Tasks.Shout);                   // BAD: int into string
                public static object Bad2() => TaskGroup.Of(Calls()).Then(Tasks.Square);                 // BAD: int[] into int
                public static object Bad3() => TaskGroup.Of(Calls()).AllSettled().Then(Tasks.Sum);      // BAD: outcomes into int[]
                public static object Bad4() => Tasks.Add.Call(1, 2).Then(Tasks.Describe);                // BAD: two parameters, no Bind
                public static object Bad5() => Tasks.Add.Call(1, 2).Then(Tasks.Describe.Bind(5));        // BAD: 5 is no unit
                public static object Bad6() => Tasks.Shout.Map(new[] { 1, 2 });                          // BAD: ints into string
                public static object Bad7() => Tasks.Add.Call(1, 2).Then(Tasks.Record).Then(Tasks.Square); // BAD: nothing follows a step without a result
                public static object Bad8() => TaskGroup.Of(Tasks.Add.Call(1, 2), Tasks.Shout.Call("a").Then(Tasks.Shout)); // BAD: members of two result types
                public static object Bad10() => Tasks.Add.Call(1, 2).ThenAll(Tasks.Square, Tasks.Shout);  // BAD: a fan-out's steps take the same input
                public static object Bad9() => Tasks.Shout.Call("x").Then(Tasks.Record);                 // BAD: string into int, no result either
            }
            """;
        var source = Tasks + "\n" + callers;
        var (_, output, diagnostics) = GeneratorHarness.Run(source, "App");
        Assert.Empty(diagnostics);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var lines = source.Split('\n');
        var errorLines = errors.Select(e => e.Location.GetLineSpan().StartLinePosition.Line).ToHashSet();
        var badLines = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains("// BAD", System.StringComparison.Ordinal)).ToHashSet();

        Assert.Equal(10, badLines.Count);
        Assert.True(badLines.SetEquals(errorLines), "errors at lines " + string.Join(", ", errorLines.Order()) + ": " + string.Join("\n", errors));
        Assert.All(errors, e => Assert.Contains(e.Id, new[] { "CS1503", "CS0411", "CS1929", "CS1061" }));
    }
}
