using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace TypedTasks.Generators.Model;

/// <summary>A source location as values, so that diagnostics can travel through the pipeline.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location)
        => location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic as values: its descriptor, where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        => new(descriptor, location, new EquatableArray<string>(arguments));

    // The one place a Diagnostic is made: when a reporting output reports it (BannedSymbols.txt).
#pragma warning disable RS0030
    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(Descriptor, Location?.ToLocation(), [.. Arguments]);
#pragma warning restore RS0030
}

/// <summary>What parsing one <c>[Task]</c> method gives: a model when the task can run, and the diagnostics.</summary>
internal sealed record TaskParseResult(TaskModel? Model, TaskIdentity? Identity, EquatableArray<DiagnosticInfo> Diagnostics);
