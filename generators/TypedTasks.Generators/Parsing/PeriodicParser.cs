using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>Reads a task's <c>[Periodic]</c> attribute, if any, and checks its expression, zone and the task's parameters.</summary>
internal static class PeriodicParser
{
    public static PeriodicModel? Parse(IMethodSymbol method, string display, LocationInfo? methodLocation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var attribute = method.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } type && TypeSupport.MetadataName(type) == KnownNames.PeriodicAttribute);
        if (attribute is null || attribute.ConstructorArguments.Length == 0
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
            || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error))
        {
            return null; // the compiler reports a broken attribute itself
        }

        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var valid = true;
        var cron = attribute.ConstructorArguments[0].Value as string;
        if (CronSyntax.Problem(cron) is { } problem)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidCron, TaskParser.ArgumentLocation(syntax, null, 0) ?? methodLocation, display, cron ?? "null", problem));
            valid = false;
        }

        foreach (var parameter in method.Parameters)
        {
            var name = parameter.Type is INamedTypeSymbol named ? TypeSupport.MetadataName(named) : null;
            if (name is not (KnownNames.CancellationToken or KnownNames.TaskContext))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PeriodicWithArguments, LocationInfo.From(parameter.Locations.FirstOrDefault()) ?? methodLocation, display, parameter.Name, parameter.Type.ToDisplayString()));
                valid = false;
            }
        }

        var zone = "UTC";
        int misfire = 0, overlap = 0;
        foreach (var argument in attribute.NamedArguments)
        {
            switch (argument.Key)
            {
                case "TimeZone":
                    zone = argument.Value.Value as string ?? string.Empty;
                    if (!IanaZones.Contains(zone))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownTimeZone, TaskParser.ArgumentLocation(syntax, argument.Key, -1) ?? methodLocation, display, zone));
                    }

                    break;
                case "Misfire":
                    misfire = argument.Value.Value is int m ? m : 0;
                    break;
                case "Overlap":
                    overlap = argument.Value.Value is int o ? o : 0;
                    break;
            }
        }

        return valid ? new PeriodicModel(cron!.Trim(), zone, misfire, overlap) : null;
    }
}
