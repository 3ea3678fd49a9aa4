using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedTasks.Generators;

namespace TypedTasks.Generators.Tests;

/// <summary>Builds compilations of test sources against the runtime and runs the generator over them.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // The trusted platform assemblies are the framework; add the runtime and its dependencies.
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var runtime = typeof(TaskAttribute).Assembly.Location;
        var messagePack = typeof(MessagePack.MessagePackSerializer).Assembly.Location;
        var annotations = typeof(MessagePack.MessagePackObjectAttribute).Assembly.Location;
        var di = typeof(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions).Assembly.Location;
        var celery = typeof(TypedTasks.Celery.CeleryTaskAttribute).Assembly.Location;
        var redis = typeof(StackExchange.Redis.IConnectionMultiplexer).Assembly.Location;
        return [.. platform.Concat([runtime, messagePack, annotations, di, celery, redis]).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    public static CSharpCompilation Compile(string source, string assemblyName = "TestApp", IEnumerable<MetadataReference>? extra = null, OutputKind kind = OutputKind.DynamicallyLinkedLibrary)
        => CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Tasks.cs")],
            References.Value.Concat(extra ?? []),
            new CSharpCompilationOptions(
                kind,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                allowUnsafe: true,
                // Test sources need not document their own types; CompilerProblems still fails on
                // an undocumented generated member.
                specificDiagnosticOptions: [new("CS1591", ReportDiagnostic.Warn)]));

    public static GeneratorDriver CreateDriver(string? rootNamespace = null)
        => CSharpGeneratorDriver.Create(
            [new TaskGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: new OptionsProvider(rootNamespace),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the driver's result and the compilation with generated sources.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics) Run(Compilation compilation, string? rootNamespace = null)
    {
        var driver = CreateDriver(rootNamespace).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics) Run(string source, string? rootNamespace = null)
        => Run(Compile(source), rootNamespace);

    /// <summary>The generator's diagnostics with the compiler's warnings and errors of the output compilation.</summary>
    public static ImmutableArray<Diagnostic> AllDiagnostics(string source, string? rootNamespace = null)
    {
        var (_, output, generator) = Run(source, rootNamespace);
        return [.. generator, .. CompilerProblems(output)];
    }

    /// <summary>
    /// The output compilation's warnings and errors, less missing doc comments on the test's own
    /// (hand-written) types: generated code must document everything it makes public.
    /// </summary>
    public static IEnumerable<Diagnostic> CompilerProblems(Compilation output)
        => output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning
            && !(d.Id == "CS1591" && d.Location.SourceTree?.FilePath == "Tasks.cs"));

    /// <summary>A file of the repository, found from the test's output folder.</summary>
    public static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TypedTasks.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("TypedTasks.sln not found above the test directory.");
    }

    /// <summary>Emits the compilation to an in-memory assembly and loads it.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        Assert.True(result.Success, string.Join(Environment.NewLine, result.Diagnostics));
        return Assembly.Load(stream.ToArray());
    }

    private sealed class OptionsProvider(string? rootNamespace) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(rootNamespace);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => GlobalOptions;

        private sealed class Options(string? rootNamespace) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value)
            {
                value = rootNamespace ?? string.Empty;
                return key == "build_property.RootNamespace" && rootNamespace is not null;
            }
        }
    }
}
