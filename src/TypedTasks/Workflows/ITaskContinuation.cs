namespace TypedTasks.Workflows;

/// <summary>
/// A task that can follow a step whose result is a <typeparamref name="TIn"/>: it takes that result
/// as its first parameter. A task with one parameter (besides CancellationToken, TaskContext and
/// IProgress) is one (<c>Tasks.Square</c>); <c>Tasks.Describe.Bind("cm")</c> makes one of a task
/// with more, binding all parameters but the first.
/// </summary>
/// <typeparam name="TIn">The type of the first parameter: the previous step's result.</typeparam>
/// <typeparam name="TOut">The task's result type.</typeparam>
public interface ITaskContinuation<TIn, TOut>
{
    /// <summary>The call this step makes: its arguments with the first one open (a nil, replaced by the previous result when it is known).</summary>
    TaskCall<TOut> Open { get; }
}

/// <summary>
/// A task without a result that can follow a step whose result is a <typeparamref name="TIn"/>: it
/// takes that result as its first parameter and ends the chain (<c>.Then(Tasks.Notify)</c>).
/// </summary>
/// <typeparam name="TIn">The type of the first parameter: the previous step's result.</typeparam>
public interface ITaskContinuation<TIn>
{
    /// <summary>The call this step makes: its arguments with the first one open (a nil, replaced by the previous result when it is known).</summary>
    TaskCall Open { get; }
}
