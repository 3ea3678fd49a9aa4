using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// The generator runs twice through one driver: an edit unrelated to tasks must leave the model
/// step cached, an edit of a task's signature must not, and no Roslyn object may be held in a
/// step's output (it would defeat caching and keep compilations alive).
/// </summary>
public sealed class CachingTests
{
    private const string Source = """
        using TypedTasks;
        namespace App;
        public static class MathTasks
        {
            [Task] public static int Add(int x, int y) => x + y;
            [Task(Queue = "slow")] public static string Echo(string text) => text;
        }
        """;

    private static GeneratorRunResult RunTwice(Func<CSharpCompilation, CSharpCompilation> edit)
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.CreateDriver("App").RunGenerators(compilation);
        driver = driver.RunGenerators(edit(compilation));
        return driver.GetRunResult().Results.Single();
    }

    [Fact]
    public void An_unrelated_edit_leaves_the_model_step_cached()
    {
        var result = RunTwice(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public sealed class Unrelated { public int Value { get; set; } }", GeneratorHarness.ParseOptions)));

        var models = result.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(2, models.Count);
        Assert.All(models, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Model step was {o.Reason}."));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"An output step was {o.Reason}."));
    }

    [Fact]
    public void An_edit_in_a_method_body_leaves_the_model_step_cached()
    {
        var result = RunTwice(c =>
        {
            var tree = c.SyntaxTrees.Single();
            var edited = tree.WithChangedText(tree.GetText().Replace(Source.IndexOf("x + y", StringComparison.Ordinal), 5, "y + x"));
            return c.ReplaceSyntaxTree(tree, edited);
        });

        Assert.All(result.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Model step was {o.Reason}."));
    }

    [Fact]
    public void A_signature_edit_changes_the_model()
    {
        var result = RunTwice(c =>
        {
            var tree = c.SyntaxTrees.Single();
            var edited = tree.WithChangedText(tree.GetText().Replace(Source.IndexOf("int y", StringComparison.Ordinal), 5, "long y"));
            return c.ReplaceSyntaxTree(tree, edited);
        });

        Assert.Contains(result.TrackedSteps[TrackingNames.Models].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void No_step_output_holds_a_Roslyn_object()
    {
        var result = RunTwice(c => c);
        foreach (var (step, runs) in result.TrackedSteps)
        {
            foreach (var output in runs.SelectMany(r => r.Outputs))
            {
                AssertNoRoslynObject(output.Value, step, depth: 0);
            }
        }
    }

    private static void AssertNoRoslynObject(object? value, string step, int depth)
    {
        if (value is null || depth > 8 || value is string || value.GetType().IsPrimitive || value is Enum)
        {
            return;
        }

        if (step is TrackingNames.Parsed or TrackingNames.Models or TrackingNames.Identities)
        {
            // A Location or Diagnostic holds its SyntaxTree; BannedSymbols.txt cannot see a field's type, this walk can.
            Assert.False(value is ISymbol or SyntaxNode or SyntaxTree or Location or Diagnostic or Compilation or SemanticModel, $"Step {step} holds a {value.GetType().Name}.");
        }

        if (value is DiagnosticDescriptor or AnalyzerConfigOptionsLike)
        {
            return;
        }

        if (value is IEnumerable sequence)
        {
            foreach (var item in sequence)
            {
                AssertNoRoslynObject(item, step, depth + 1);
            }

            return;
        }

        if (value.GetType().Namespace?.StartsWith("TypedTasks", StringComparison.Ordinal) == true || value.GetType().Name.StartsWith("ValueTuple", StringComparison.Ordinal))
        {
            foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                AssertNoRoslynObject(field.GetValue(value), step, depth + 1);
            }
        }
    }

    /// <summary>Marker for values the walk does not descend into.</summary>
    private interface AnalyzerConfigOptionsLike;
}
