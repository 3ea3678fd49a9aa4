namespace TypedTasks.Generators.Model;

/// <summary>How a task method hands back its result.</summary>
internal enum ReturnKind
{
    Void,
    Task,
    ValueTask,
    Value,
    TaskOfT,
    ValueTaskOfT,
}
