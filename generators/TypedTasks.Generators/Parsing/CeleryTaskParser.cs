using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Reads a <c>[CeleryTask("name")]</c> declaration. It must be a body-less <c>static partial</c>
/// method returning <c>Task&lt;T&gt;</c>, not generic, with by-value parameters, declared in a
/// top-level <c>static partial</c> class: the generator writes its body. Anything else is TT0031
/// (with what is wrong); a blank name is TT0032.
/// </summary>
internal static class CeleryTaskParser
{
    private static readonly SymbolDisplayFormat TypeFormat = TaskParser.TypeFormat;

    public static CeleryParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        var location = LocationInfo.From(syntax.Identifier.GetLocation());
        var attribute = context.Attributes[0];
        var name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        var queue = attribute.NamedArguments.Where(a => a.Key == "Queue").Select(a => a.Value.Value as string).FirstOrDefault();

        var problems = new List<string>();
        if (!method.IsStatic || !method.IsPartialDefinition)
        {
            problems.Add("it is not a static partial method without a body");
        }

        if (method.PartialImplementationPart is not null)
        {
            problems.Add("it has a body of its own");
        }

        if (method.IsGenericMethod)
        {
            problems.Add("it is generic");
        }

        var type = method.ContainingType;
        if (type.ContainingType is not null || !type.IsStatic || !syntax.Parent!.IsKind(SyntaxKind.ClassDeclaration) || !((ClassDeclarationSyntax)syntax.Parent).Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            problems.Add("its class is not a top-level static partial class");
        }

        var returned = method.ReturnType as INamedTypeSymbol;
        var isTaskOfT = returned is { IsGenericType: true, TypeArguments.Length: 1 } && returned.ConstructedFrom.ToDisplayString() == "System.Threading.Tasks.Task<TResult>";
        if (!isTaskOfT)
        {
            problems.Add("it does not return Task<T> (T is the Python task's result; Task<object?> for one that returns None)");
        }

        if (method.Parameters.Any(p => p.RefKind != RefKind.None || p.IsParams))
        {
            problems.Add("a parameter is ref, out, in or params");
        }

        if (method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal))
        {
            problems.Add("it is neither public nor internal");
        }

        var diagnostics = new List<DiagnosticInfo>();
        if (problems.Count > 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BadCeleryDeclaration, location, method.Name, string.Join("; ", problems)));
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidCeleryName, location, method.Name));
        }

        if (diagnostics.Count > 0)
        {
            return new CeleryParseResult(null, new EquatableArray<DiagnosticInfo>([.. diagnostics]));
        }

        var parameters = method.Parameters
            .Select(p => new ParameterModel(SyntaxFacts.GetKeywordKind(p.Name) == SyntaxKind.None ? p.Name : "@" + p.Name, p.Type.ToDisplayString(TypeFormat), null, null))
            .ToArray();
        var model = new CeleryTaskModel(
            name!,
            queue,
            method.Name,
            method.DeclaredAccessibility == Accessibility.Public ? "public" : "internal",
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            method.ReturnType.ToDisplayString(TypeFormat),
            returned!.TypeArguments[0].ToDisplayString(TypeFormat),
            new EquatableArray<ParameterModel>(parameters));
        return new CeleryParseResult(model, EquatableArray<DiagnosticInfo>.Empty);
    }
}
