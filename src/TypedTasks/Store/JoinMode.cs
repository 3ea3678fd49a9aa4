namespace TypedTasks.Store;

/// <summary>What a workflow join passes to its successor as the first argument.</summary>
public enum JoinMode
{
    /// <summary>A chain step: the one member's result as it is; a failure ends the successor.</summary>
    One,

    /// <summary>A group or chord: every member's result, in member order, as an array; the first failure ends the successor.</summary>
    All,

    /// <summary>After AllSettled: every member's outcome (state, result or error), in member order, once all have ended.</summary>
    Settled,
}
