namespace TypedTasks.Generators.Parsing;

/// <summary>Why a type cannot travel in a message: the kind, and a reason that names the type and the member path to it.</summary>
internal sealed record TypeProblem(TypeProblemKind Kind, string Reason);
