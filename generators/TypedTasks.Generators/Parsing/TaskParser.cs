using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Turns one <c>[Task]</c> method into a <see cref="TaskModel"/> and its diagnostics. All symbol
/// work happens here; nothing of Roslyn leaves this class but values.
/// </summary>
internal static class TaskParser
{
    /// <summary>How generated code names a type: fully qualified, with its nullable annotation.</summary>
    internal static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static TaskParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0)
        {
            return Nothing();
        }

        var attribute = context.Attributes[0];
        if (HasErrors(method) || attribute.AttributeClass is null or IErrorTypeSymbol
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
            || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error))
        {
            return Nothing(); // the compiler already reports what is broken
        }

        cancellationToken.ThrowIfCancellationRequested();
        var compilation = context.SemanticModel.Compilation;
        var diagnostics = new List<DiagnosticInfo>();
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var methodSyntax = context.TargetNode as MethodDeclarationSyntax;
        var methodLocation = LocationInfo.From(methodSyntax?.Identifier.GetLocation() ?? method.Locations.FirstOrDefault());
        var display = $"{method.ContainingType.Name}.{method.Name}";

        CheckShape(method, display, methodLocation, diagnostics);

        // Attribute values.
        var explicitName = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string : null;
        var name = explicitName ?? DefaultName(method);
        if (explicitName is not null && !IsValidName(explicitName))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTaskName, ArgumentLocation(attributeSyntax, null, 0) ?? methodLocation, display, explicitName));
        }

        var queue = "default";
        var maxRetries = 0;
        long? timeout = null, retryDelay = null, expires = null, uniqueFor = null;
        string[]? uniqueBy = null;
        var proxyName = method.Name;
        foreach (var argument in attribute.NamedArguments)
        {
            var location = ArgumentLocation(attributeSyntax, argument.Key, -1) ?? methodLocation;
            switch (argument.Key)
            {
                case "Queue":
                    queue = argument.Value.Value as string ?? string.Empty;
                    if (!IsValidName(queue) || queue.IndexOfAny(['{', '}', '@']) >= 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidQueueName, location, display, queue));
                    }

                    break;
                case "MaxRetries":
                    maxRetries = argument.Value.Value is int retries ? retries : 0;
                    if (maxRetries < 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NegativeMaxRetries, location, display, maxRetries.ToString(CultureInfo.InvariantCulture)));
                    }

                    break;
                case "Timeout":
                    timeout = ParseTime(argument, display, location, diagnostics);
                    break;
                case "RetryDelay":
                    retryDelay = ParseTime(argument, display, location, diagnostics);
                    break;
                case "Expires":
                    expires = ParseTime(argument, display, location, diagnostics);
                    break;
                case "UniqueFor":
                    uniqueFor = ParseTime(argument, display, location, diagnostics);
                    break;
                case "UniqueBy":
                    uniqueBy = argument.Value.IsNull ? null : argument.Value.Values.Select(v => v.Value as string ?? "null").ToArray();
                    break;
                case "ProxyName":
                    proxyName = argument.Value.Value as string ?? string.Empty;
                    if (!SyntaxFacts.IsValidIdentifier(proxyName) || SyntaxFacts.GetKeywordKind(proxyName) != SyntaxKind.None || proxyName == "Tasks")
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidProxyName, location, display, proxyName));
                    }

                    break;
            }
        }

        // Parameters.
        var parameters = new List<ParameterModel>();
        foreach (var parameter in method.Parameters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var location = LocationInfo.From(parameter.Locations.FirstOrDefault());
            if (parameter.RefKind != RefKind.None)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ByRefParameter, location, parameter.Name, display, RefKindText(parameter.RefKind)));
                continue;
            }

            if (parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol || parameter.Type.IsRefLikeType)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StackOnlyParameter, location, parameter.Name, display, parameter.Type.ToDisplayString()));
                continue;
            }

            var suppliedBy = SuppliedBy(parameter);
            if (suppliedBy is null && ProgressType(parameter) is { } progress)
            {
                if (parameters.Any(p => p.SuppliedBy?.StartsWith("invocation.Progress<", StringComparison.Ordinal) == true))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SecondProgress, location, display, parameter.Name));
                    continue;
                }

                // The worker supplies the reporter; what it reports travels as MessagePack, so it must be encodable.
                if (TypeSupport.Check(progress, compilation) is { } progressProblem)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedParameterType, location, parameter.Name, display, "its progress type: " + progressProblem.Reason));
                    continue;
                }

                suppliedBy = $"invocation.Progress<{progress.ToDisplayString(TypeFormat)}>()";
            }

            if (suppliedBy is null && TypeSupport.Check(parameter.Type, compilation) is { } problem)
            {
                diagnostics.Add(problem.Kind == TypeProblemKind.Unsupported
                    ? DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedParameterType, location, parameter.Name, display, problem.Reason)
                    : DiagnosticInfo.Create(Descriptor(problem.Kind), location, $"Parameter '{parameter.Name}'", display, problem.Reason));
                continue;
            }

            parameters.Add(new ParameterModel(
                Escape(parameter.Name),
                parameter.Type.ToDisplayString(TypeFormat),
                suppliedBy,
                parameter.HasExplicitDefaultValue ? DefaultValueText(parameter) : null));
        }

        var uniqueParameters = UniqueChecks.Check(method, IsSupplied, attributeSyntax, uniqueFor, attribute.NamedArguments.Any(a => a.Key == "UniqueFor"), uniqueBy, display, methodLocation, diagnostics);
        var limits = LimitChecks.Check(method, IsSupplied, attribute, attributeSyntax, display, methodLocation, diagnostics);

        // Result.
        var (returnKind, resultType) = ClassifyReturn(method);
        var resultProblem = resultType is null ? null
            : resultType.IsRefLikeType ? new TypeProblem(TypeProblemKind.Unsupported, $"'{resultType.ToDisplayString()}' is a ref struct, which cannot leave the stack")
            : TypeSupport.Check(resultType, compilation);
        if (resultProblem is not null)
        {
            var resultLocation = LocationInfo.From(methodSyntax?.ReturnType) ?? methodLocation;
            diagnostics.Add(resultProblem.Kind == TypeProblemKind.Unsupported
                ? DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedReturnType, resultLocation, display, resultProblem.Reason)
                : DiagnosticInfo.Create(Descriptor(resultProblem.Kind), resultLocation, "The result", display, resultProblem.Reason));
        }

        var periodic = PeriodicParser.Parse(method, display, methodLocation, diagnostics, cancellationToken);

        var identity = new TaskIdentity(name, proxyName, display, methodLocation);
        if (diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
        {
            return new TaskParseResult(null, identity, new EquatableArray<DiagnosticInfo>(diagnostics));
        }

        var model = new TaskModel(
            name,
            proxyName,
            method.ContainingType.ToDisplayString(TypeFormat),
            Escape(method.Name),
            method.IsStatic,
            returnKind,
            resultType?.ToDisplayString(TypeFormat),
            new EquatableArray<ParameterModel>(parameters),
            queue,
            maxRetries,
            timeout,
            retryDelay,
            expires,
            new EquatableArray<string>(DocComments.ForProxy(methodSyntax, new HashSet<string>(method.Parameters.Where(IsSupplied).Select(p => p.Name)))),
            periodic,
            uniqueFor,
            new EquatableArray<int>(uniqueParameters),
            limits);
        return new TaskParseResult(model, identity, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>
    /// How the generated dispatch gets a parameter the worker supplies, or null for one carried in
    /// the message: the run's token, and its <c>TaskContext</c>.
    /// </summary>
    private static string? SuppliedBy(IParameterSymbol parameter)
        => parameter.Type is not INamedTypeSymbol type ? null
            : TypeSupport.MetadataName(type) switch
            {
                KnownNames.CancellationToken => "invocation.CancellationToken",
                KnownNames.TaskContext => "invocation.Context",
                _ => null,
            };

    /// <summary>Whether the worker supplies the parameter (no message carries it): a token, a context, a progress reporter.</summary>
    private static bool IsSupplied(IParameterSymbol parameter) => SuppliedBy(parameter) is not null || ProgressType(parameter) is not null;

    /// <summary>The <c>T</c> of an <c>IProgress&lt;T&gt;</c> parameter, which the worker supplies; null for any other.</summary>
    private static ITypeSymbol? ProgressType(IParameterSymbol parameter)
        => parameter.Type is INamedTypeSymbol { IsGenericType: true } type && TypeSupport.MetadataName(type.ConstructedFrom) == KnownNames.Progress
            ? type.TypeArguments[0]
            : null;

    /// <summary>The diagnostic for a type that has a formatter but no way to be created when read.</summary>
    private static DiagnosticDescriptor Descriptor(TypeProblemKind kind)
        => kind == TypeProblemKind.NoUnion ? DiagnosticDescriptors.AbstractWithoutUnion : DiagnosticDescriptors.NoUsableConstructor;

    private static TaskParseResult Nothing() => new(null, null, EquatableArray<DiagnosticInfo>.Empty);

    private static bool HasErrors(IMethodSymbol method)
        => method.ReturnType.TypeKind == TypeKind.Error
           || method.Parameters.Any(p => p.Type.TypeKind == TypeKind.Error || (p.Type is IArrayTypeSymbol a && a.ElementType.TypeKind == TypeKind.Error));

    /// <summary>The method's own shape: generic, async void, accessibility, its containing types.</summary>
    private static void CheckShape(IMethodSymbol method, string display, LocationInfo? location, List<DiagnosticInfo> diagnostics)
    {
        if (method.IsGenericMethod)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericMethod, location, display));
        }

        if (method.IsAsync && method.ReturnsVoid)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AsyncVoid, location, display));
        }

        if (method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InaccessibleMethod, location, display, AccessibilityText(method.DeclaredAccessibility)));
        }

        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            string? problem = null;
            if (type.IsGenericType)
            {
                problem = "is generic, so a message cannot say which type arguments to use";
            }
            else if (type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            {
                problem = $"is {AccessibilityText(type.DeclaredAccessibility)}";
            }

            if (problem is not null)
            {
                var typeLocation = LocationInfo.From(type.Locations.FirstOrDefault());
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnreachableContainingType, location ?? typeLocation, display, type.ToDisplayString(), problem));
                break;
            }
        }

        if (!method.IsStatic)
        {
            var type = method.ContainingType;
            var problem = type.TypeKind != TypeKind.Class ? "is not a class"
                : type.IsAbstract ? "is abstract"
                : null;
            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InstanceTaskNotConstructible, location, display, type.ToDisplayString(), problem));
            }
        }
    }

    private static (ReturnKind Kind, ITypeSymbol? Result) ClassifyReturn(IMethodSymbol method)
    {
        if (method.ReturnsVoid)
        {
            return (ReturnKind.Void, null);
        }

        if (method.ReturnType is INamedTypeSymbol named)
        {
            switch (TypeSupport.MetadataName(named.OriginalDefinition))
            {
                case KnownNames.Task:
                    return (ReturnKind.Task, null);
                case KnownNames.ValueTask:
                    return (ReturnKind.ValueTask, null);
                case KnownNames.TaskOfT:
                    return (ReturnKind.TaskOfT, named.TypeArguments[0]);
                case KnownNames.ValueTaskOfT:
                    return (ReturnKind.ValueTaskOfT, named.TypeArguments[0]);
            }
        }

        return (ReturnKind.Value, method.ReturnType);
    }

    private static long? ParseTime(KeyValuePair<string, TypedConstant> argument, string display, LocationInfo? location, List<DiagnosticInfo> diagnostics)
    {
        var text = argument.Value.Value as string;
        if (text is not null && TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero)
        {
            return value.Ticks;
        }

        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTimeValue, location, argument.Key, display, text ?? "null"));
        return null;
    }

    private static bool IsValidName(string name)
        => name.Length is > 0 and <= 200 && !name.Any(char.IsWhiteSpace);

    private static string DefaultName(IMethodSymbol method)
        => method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty) + "." + method.Name;

    internal static LocationInfo? ArgumentLocation(AttributeSyntax? attribute, string? named, int position)
    {
        if (attribute?.ArgumentList is not { } list)
        {
            return null;
        }

        var positional = 0;
        foreach (var argument in list.Arguments)
        {
            if (argument.NameEquals is { } equals)
            {
                if (equals.Name.Identifier.ValueText == named)
                {
                    return LocationInfo.From(argument);
                }
            }
            else if (positional++ == position)
            {
                return LocationInfo.From(argument);
            }
        }

        return null;
    }

    private static string Escape(string identifier)
        => SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None
            ? "@" + identifier
            : identifier;

    private static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.Out => "out",
        RefKind.In => "in",
        RefKind.Ref => "ref",
        _ => "ref readonly",
    };

    internal static string AccessibilityText(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedAndInternal => "private protected",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.Internal => "internal",
        Accessibility.Public => "public",
        _ => "not accessible",
    };

    /// <summary>The C# expression for an optional parameter's default, written from its constant value.</summary>
    private static string DefaultValueText(IParameterSymbol parameter)
    {
        var value = parameter.ExplicitDefaultValue;
        var type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : parameter.Type;
        if (value is null)
        {
            return "default";
        }

        var literal = value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            float f when float.IsNaN(f) => "float.NaN",
            float f when float.IsPositiveInfinity(f) => "float.PositiveInfinity",
            float f when float.IsNegativeInfinity(f) => "float.NegativeInfinity",
            double d when double.IsNaN(d) => "double.NaN",
            double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
            double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
            float f => f.ToString("R", CultureInfo.InvariantCulture) + "F",
            double d => d.ToString("R", CultureInfo.InvariantCulture) + "D",
            decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "default",
        };

        // An int literal converts implicitly; other integer types and enums need their type named.
        return type.TypeKind == TypeKind.Enum || value is sbyte or byte or short or ushort or uint or long or ulong
            ? $"({type.ToDisplayString(TypeFormat)})({literal})"
            : literal;
    }
}
