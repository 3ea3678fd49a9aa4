using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Model;

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
