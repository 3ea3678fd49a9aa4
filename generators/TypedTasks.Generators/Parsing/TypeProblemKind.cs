namespace TypedTasks.Generators.Parsing;

/// <summary>Which diagnostic a type that cannot travel gets.</summary>
internal enum TypeProblemKind
{
    /// <summary>MessagePack has no formatter for it, or its formatter would throw (TT0005, TT0006).</summary>
    Unsupported,

    /// <summary>A class or struct whose constructor MessagePack cannot call when reading (TT0017).</summary>
    NoConstructor,

    /// <summary>An interface or abstract class without <c>[Union]</c> (TT0018).</summary>
    NoUnion,
}
