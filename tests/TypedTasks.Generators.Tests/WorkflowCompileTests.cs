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
            [Task] public static void Send(string to) { }
            [Task] public static ValueTask Flush() => ValueTask.CompletedTask;
            [Task] public static string Tally(TaskOutcome[] outcomes) => outcomes.Length.ToString();
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
                public static object Bad8() => TaskGroup.Of(Tasks.Add.Call(1, 2), Tasks.Shout.Call("a").Then(Tasks.Shout)).Then(Tasks.Sum); // BAD: members of two result types keep no results
                public static object Bad10() => Tasks.Add.Call(1, 2).ThenAll(Tasks.Square, Tasks.Shout);  // BAD: a fan-out's steps take the same input
                public static object Bad9() => Tasks.Shout.Call("x").Then(Tasks.Record);                 // BAD: string into int, no result either
            }
            """;
        ErrorsAtBadLinesOnly(callers, 10, "CS1503", "CS0411", "CS1929", "CS1061");
    }

    [Fact]
    public void Groups_and_steps_without_results_have_the_types_they_claim_and_a_group_of_typed_calls_stays_typed()
    {
        // Each line compiles only if the overload chosen gives the declared type: a group of
        // TaskCall<int> stays TaskGroup<int> (OverloadResolutionPriority on the typed overloads), a
        // mixed TaskCall[] or a group of TaskCall<int> seen as IEnumerable<TaskCall> is a TaskGroup.
        const string callers = """
            public static class Caller
            {
                static IEnumerable<TaskCall<int>> Calls() => Enumerable.Range(0, 3).Select(i => Tasks.Add.Call(i, i));
                public static TaskGroup<int> Typed() => TaskGroup.Of(Calls());
                public static TaskGroup<int> TypedParams() => TaskGroup.Of(Tasks.Add.Call(1, 2), Tasks.Add.Call(3, 4));
                public static TaskGroup<int> TypedList() => TaskGroup.Of(Calls().ToList());
                public static TaskGroup<int> TypedChains() => TaskGroup.Of(Calls().Select(c => c.Then(Tasks.Square)));
                public static TaskGroup<int[]> TypedGroups() => TaskGroup.Of(Tasks.Square.Map(new[] { 1 }), Tasks.Square.Map(new[] { 2 }));
                public static TaskGroup<int> Empty() => TaskGroup.Of(System.Array.Empty<TaskCall<int>>());
                public static TaskGroup Untyped() => TaskGroup.Of((IEnumerable<TaskCall>)Calls());
                public static TaskGroup MixedArray() => TaskGroup.Of(new TaskCall[] { Tasks.Add.Call(1, 2), Tasks.Send.Call("a") });
                public static TaskGroup MixedParams() => TaskGroup.Of(Tasks.Add.Call(1, 2), Tasks.Send.Call("a"), Tasks.Flush.Call());
                public static TaskGroup Emails(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e)));
                public static TaskGroup Parts() => TaskGroup.Of(Tasks.Add.Call(1, 2).Then(Tasks.Record), Tasks.Send.Call("a"), Tasks.Square.Map(new[] { 1 }));
                public static TaskChain Notify(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).Then(Tasks.Flush.Call());
                public static TaskChain<int> NotifyTyped(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).Then(Tasks.Add.Call(1, 2));
                public static TaskChain<string> Settled(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).AllSettled().Then(Tasks.Tally);
                public static TaskChain SettledFixed(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).AllSettled().Then(Tasks.Send.Call("ops"));
                public static Task<AsyncResult<TaskOutcome[]>> Outcomes(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).AllSettled().EnqueueAsync();
                public static Task<AsyncResult> Sent(string[] to) => TaskGroup.Of(to.Select(e => Tasks.Send.Call(e))).EnqueueAsync();
                public static TaskChain<int> Si() => Tasks.Add.Call(1, 2).Then(Tasks.Add.Call(3, 4));
                public static TaskChain SiLast() => Tasks.Add.Call(1, 2).Then(Tasks.Send.Call("a"));
                public static TaskChain<string> SiMiddle() => Tasks.Add.Call(1, 2).Then(Tasks.Square).Then(Tasks.Add.Call(3, 4)).Then(Tasks.Describe.Bind("cm"));
                public static TaskChain<int> AfterVoid() => Tasks.Send.Call("a").Then(Tasks.Add.Call(1, 2));
                public static TaskChain AfterVoidChain() => Tasks.Add.Call(1, 2).Then(Tasks.Record).Then(Tasks.Send.Call("a")).Then(Tasks.Flush.Call());
                public static TaskChain<int> AfterChord() => TaskGroup.Of(Calls()).Then(Tasks.Add.Call(0, 0));
                public static TaskChain<int> AfterSettled() => TaskGroup.Of(Calls()).AllSettled().Then(Tasks.Add.Call(0, 0));
                public static TaskChain<int> ChainStillTakes() => Tasks.Add.Call(1, 2).Then(Tasks.Square);
                public static TaskGroup<int> TypedCollection() => TaskGroup.Of([Tasks.Add.Call(1, 2), Tasks.Add.Call(3, 4)]);
                public static TaskGroup<int> TypedCollectionParts() => TaskGroup.Of([Tasks.Add.Call(1, 2), Tasks.Add.Call(3, 4).Then(Tasks.Square)]);
                public static TaskGroup MixedCollection() => TaskGroup.Of([Tasks.Add.Call(1, 2), Tasks.Send.Call("a")]);
                public static TaskGroup EmptyCollection() => TaskGroup.Of([]);
                public static TaskGroup UntypedList() => TaskGroup.Of(new List<TaskCall> { Tasks.Add.Call(1, 2), Tasks.Send.Call("a") });
                public static TaskGroup<int> TypedList2() => TaskGroup.Of(new List<TaskCall<int>> { Tasks.Add.Call(1, 2) });
                public static TaskGroup<int> TypedWorkflowList() => TaskGroup.Of(new List<IWorkflow<int>> { Tasks.Add.Call(1, 2), Tasks.Add.Call(1, 2).Then(Tasks.Square) });
                public static TaskGroup Nested() => TaskGroup.Of(TaskGroup.Of(Tasks.Send.Call("a")), TaskGroup.Of(Tasks.Send.Call("b")).AllSettled(), Tasks.Add.Call(1, 2).Then(Tasks.Send.Call("c")));
                public static TaskGroup<TaskOutcome[]> NestedSettled() => TaskGroup.Of(TaskGroup.Of(Tasks.Send.Call("a")).AllSettled(), TaskGroup.Of(Tasks.Send.Call("b")).AllSettled());
                public static object Bad1() => Tasks.Send.Call("a").Then(Tasks.Square);                          // BAD: a task without a result gives nothing to take
                public static object Bad2() => TaskGroup.Of(Tasks.Send.Call("a")).Then(Tasks.Sum);               // BAD: a group without results gives nothing to take
                public static object Bad3() => Tasks.Add.Call(1, 2).Then(Tasks.Record).Then(Tasks.Square);        // BAD: nor does a chain ended without a result
                public static object Bad4() => TaskGroup.Of(Tasks.Send.Call("a")).AllSettled().Then(Tasks.Summarize); // BAD: outcomes without results are TaskOutcome[]
                public static TaskGroup<int> Bad5() => TaskGroup.Of(Tasks.Add.Call(1, 2), Tasks.Send.Call("a"));  // BAD: a mix is not typed
            }
            """;
        ErrorsAtBadLinesOnly(callers, 5, "CS1503", "CS0411", "CS0029", "CS1929");
    }

    /// <summary>Compiles <paramref name="callers"/> beside the tasks: errors exactly at the lines marked BAD, each one of <paramref name="ids"/>.</summary>
    private static void ErrorsAtBadLinesOnly(string callers, int bad, params string[] ids)
    {
        var source = Tasks + "\n" + callers;
        var (_, output, diagnostics) = GeneratorHarness.Run(source, "App");
        Assert.Empty(diagnostics);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var lines = source.Split('\n');
        var errorLines = errors.Select(e => e.Location.GetLineSpan().StartLinePosition.Line).ToHashSet();
        var badLines = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains("// BAD", System.StringComparison.Ordinal)).ToHashSet();

        Assert.Equal(bad, badLines.Count);
        Assert.True(badLines.SetEquals(errorLines), "errors at lines " + string.Join(", ", errorLines.Order()) + ": " + string.Join("\n", errors));
        Assert.All(errors, e => Assert.Contains(e.Id, ids));
    }
}
