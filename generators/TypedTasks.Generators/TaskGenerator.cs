using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Emitting;
using TypedTasks.Generators.Model;
using TypedTasks.Generators.Parsing;

namespace TypedTasks.Generators;

/// <summary>
/// The TypedTasks generator: for every <c>[Task]</c> method, a typed proxy on <c>Tasks</c> and an
/// entry in this assembly's registry, plus a module initializer that makes the registries of
/// referenced task assemblies known. Per-task diagnostics and compilation-wide diagnostics have
/// their own outputs, so that moving code never regenerates sources.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TaskGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.TaskAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => TaskParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parsed);

        context.RegisterSourceOutput(
            parsed.SelectMany(static (result, _) => result.Diagnostics.AsImmutableArray()),
            static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));

        var identities = parsed
            .Where(static result => result.Identity is not null)
            .Select(static (result, _) => result.Identity!)
            .Collect()
            .WithTrackingName(TrackingNames.Identities);
        context.RegisterSourceOutput(identities, static (spc, all) =>
        {
            foreach (var diagnostic in TaskChecks.Collisions(all))
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        var models = parsed
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TrackingNames.Models);

        var rootNamespace = context.AnalyzerConfigOptionsProvider
            .Combine(context.CompilationProvider.Select(static (c, _) => (c.AssemblyName ?? string.Empty, ReferenceScanner.ReferencesRuntime(c))))
            .Select(static (pair, _) =>
            {
                pair.Left.GlobalOptions.TryGetValue("build_property.RootNamespace", out var configured);
                var name = string.IsNullOrWhiteSpace(configured) ? pair.Right.Item1 : configured!;
                return (Namespace: NamespaceName.Sanitize(name), ReferencesRuntime: pair.Right.Item2);
            })
            .WithTrackingName(TrackingNames.RootNamespace);

        // [CeleryTask] declarations: tasks another process runs, proxied on CeleryTasks.
        var celery = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.CeleryTaskAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => CeleryTaskParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Celery);
        context.RegisterSourceOutput(
            celery.SelectMany(static (result, _) => result.Diagnostics.AsImmutableArray()),
            static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));
        var celeryModels = celery
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .Collect()
            .Combine(rootNamespace);
        context.RegisterSourceOutput(celeryModels, static (spc, input) =>
        {
            var (tasks, root) = input;
            if (tasks.Length > 0)
            {
                spc.AddSource(CeleryEmitter.HintName, CeleryEmitter.Emit([.. tasks.OrderBy(t => t.MethodName, System.StringComparer.Ordinal)], root.Namespace));
            }
        });

        var references = context.CompilationProvider
            .Select(static (c, ct) => ReferenceScanner.FindRegistries(c, ct))
            .WithTrackingName(TrackingNames.References);

        var all = models.Collect().Combine(rootNamespace).Combine(references);
        context.RegisterSourceOutput(all, static (spc, input) =>
        {
            var ((tasks, root), referenced) = input;
            if (!root.ReferencesRuntime)
            {
                return;
            }

            // Tasks whose name or proxy another task claims are reported by the identity output
            // and left out here, so the rest of the assembly still compiles.
            var (names, proxies) = TaskChecks.Claimed(tasks);
            var emitted = tasks
                .Where(t => !names.Contains(t.Name) && !proxies.Contains(t.ProxyName))
                .OrderBy(t => t.ProxyName, System.StringComparer.Ordinal)
                .ToList();

            if (emitted.Count > 0)
            {
                spc.AddSource(TaskEmitter.TasksHintName, TaskEmitter.EmitTasks(emitted, root.Namespace));
            }

            if (emitted.Count > 0 || referenced.Length > 0)
            {
                spc.AddSource(TaskEmitter.RegistryHintName, TaskEmitter.EmitRegistry(emitted, root.Namespace, referenced));
            }
        });
    }
}
