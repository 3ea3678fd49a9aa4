using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Serialization;

namespace TypedTasks;

/// <summary>
/// A task with its arguments bound, and nothing sent yet: <c>Tasks.Report.Call(id)</c>. Send it
/// with <see cref="EnqueueAsync"/>, hand it to a schedule, or compose it into a workflow. This is
/// the call of a task without a result; <see cref="TaskCall{T}"/> is that of a task with one. Any
/// call can be a member of a group whose results are not kept, and be followed by a step that
/// takes no result (<see cref="Then(TaskCall)"/>).
/// </summary>
public class TaskCall : Workflows.IWorkflow
{
    private protected TaskCall(TaskDescriptor task, ReadOnlyMemory<byte> arguments, EnqueueOptions? options, TaskClient? client)
    {
        Task = task;
        Arguments = arguments;
        Options = options;
        BoundClient = client;
    }

    /// <summary>The task to run.</summary>
    public TaskDescriptor Task { get; }

    /// <summary>The arguments, encoded once as the message will carry them: one MessagePack array.</summary>
    public ReadOnlyMemory<byte> Arguments { get; }

    /// <summary>The per-call options bound with the proxy's <c>With</c>; null for the task's defaults.</summary>
    public EnqueueOptions? Options { get; }

    /// <summary>The client bound with the proxy's <c>WithClient</c>; null to send through <see cref="TaskClient.Current"/>.</summary>
    internal TaskClient? BoundClient { get; }

    /// <summary>The queue this call is sent to: its options', else its task's.</summary>
    internal string Queue => Options?.Queue ?? Task.Queue;

    /// <summary>The client this call sends through.</summary>
    internal TaskClient Client => BoundClient ?? TaskClient.Current;

    /// <summary>
    /// True for the open call of a chain step (<c>Tasks.X.Bind(...).Open</c>): its first argument is a
    /// nil the previous result replaces, so it is never taken where a full call is expected.
    /// </summary>
    internal bool FirstOpen { get; private protected init; }

    /// <inheritdoc/>
    Workflows.WorkflowNode Workflows.IWorkflow.Node => new Workflows.CallNode(this);

    /// <summary>Makes the call of a task without a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static TaskCall Create<TArgs>(TaskDescriptor task, in TArgs arguments, EnqueueOptions? options, TaskClient? client)
        where TArgs : struct, ITaskArguments
        => new(task ?? throw new ArgumentNullException(nameof(task)), Encode(arguments), options, client);

    /// <summary>Makes the call of a task with a result; called by generated proxies.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static TaskCall<T> Create<T, TArgs>(TaskDescriptor task, in TArgs arguments, EnqueueOptions? options, TaskClient? client)
        where TArgs : struct, ITaskArguments
        => new(task ?? throw new ArgumentNullException(nameof(task)), Encode(arguments), options, client);

    /// <summary>The call of <paramref name="task"/> with arguments already encoded (a stored schedule's), through <paramref name="client"/>.</summary>
    internal static TaskCall Bind(TaskDescriptor task, ReadOnlyMemory<byte> arguments, TaskClient client) => new(task, arguments, null, client);

    /// <summary>
    /// A chain: <paramref name="next"/>, a call with all its arguments bound, runs after this task
    /// succeeded; it does not get this task's result (Celery's immutable signature, <c>.si()</c>).
    /// </summary>
    /// <typeparam name="TNext">The next call's result type.</typeparam>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain<TNext> Then<TNext>(TaskCall<TNext> next) => new(new Workflows.CallNode(this).ThenCall(next));

    /// <summary>A chain that ends with <paramref name="next"/>, a call of a task without a result, run after this task succeeded without its result.</summary>
    /// <param name="next">The call: <c>Tasks.X.Call(...)</c>.</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain Then(TaskCall next) => new(new Workflows.CallNode(this).ThenCall(next));

    /// <summary>The same call, marked as the open call of a chain step; called when a step is made of it.</summary>
    internal virtual TaskCall Opened() => new(Task, Arguments, Options, BoundClient) { FirstOpen = true };

    /// <summary>Sends the call: the task is enqueued with its bound options.</summary>
    /// <param name="cancellationToken">Cancels the enqueue itself, not the task.</param>
    /// <returns>A handle to await the task's outcome with.</returns>
    public async Task<AsyncResult> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var client = Client;
        var id = await client.SendCallAsync(this, Options, default, cancellationToken).ConfigureAwait(false);
        return new AsyncResult(client, id, Task.Name);
    }

    /// <inheritdoc/>
    public override string ToString() => Task.Name + "(…)";

    private static byte[] Encode<TArgs>(in TArgs arguments)
        where TArgs : struct, ITaskArguments
    {
        var buffer = ScratchBuffer.Rent();
        var writer = new MessagePackWriter(buffer);
        arguments.Write(ref writer, TaskSerializer.Options);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// The call of a task whose result is a <typeparamref name="T"/>: <c>Tasks.Add.Call(2, 3)</c>.
/// Nothing is sent until <see cref="EnqueueAsync"/>.
/// </summary>
/// <typeparam name="T">The task's result type.</typeparam>
public sealed class TaskCall<T> : TaskCall, Workflows.IWorkflow<T>
{
    internal TaskCall(TaskDescriptor task, ReadOnlyMemory<byte> arguments, EnqueueOptions? options, TaskClient? client)
        : base(task, arguments, options, client)
    {
    }

    /// <summary>A chain: <paramref name="next"/> runs after this task succeeded, with its result as its first parameter.</summary>
    /// <typeparam name="TNext">The next step's result type.</typeparam>
    /// <param name="next">The step: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c> (all parameters but the first).</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain<TNext> Then<TNext>(Workflows.ITaskContinuation<T, TNext> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new(new Workflows.CallNode(this).Then(next.Open));
    }

    /// <summary>
    /// A fan-out: every one of <paramref name="steps"/> runs at once, each with this task's result as its first
    /// parameter. The result is theirs, in step order; a step that fails (after its retries) fails it at
    /// once and cancels the steps not started. Follow it with <c>Then</c> for a callback that takes them.
    /// </summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain<TNext[]> ThenAll<TNext>(IEnumerable<Workflows.ITaskContinuation<T, TNext>> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return new(Workflows.FanNode.Of(new Workflows.CallNode(this), steps.Select(s => s?.Open!)));
    }

    /// <summary>A fan-out of <paramref name="steps"/>, each with this task's result: see <see cref="ThenAll{TNext}(IEnumerable{Workflows.ITaskContinuation{T, TNext}})"/>.</summary>
    /// <typeparam name="TNext">The steps' result type.</typeparam>
    /// <param name="steps">The steps, at least one.</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain<TNext[]> ThenAll<TNext>(params Workflows.ITaskContinuation<T, TNext>[] steps) => ThenAll((IEnumerable<Workflows.ITaskContinuation<T, TNext>>)steps);

    /// <summary>A chain that ends with <paramref name="last"/>, a task without a result, run with this task's result as its first parameter.</summary>
    /// <param name="last">The step: <c>Tasks.X</c> (one parameter) or <c>Tasks.X.Bind(...)</c>.</param>
    /// <returns>The chain, nothing sent.</returns>
    public Workflows.TaskChain Then(Workflows.ITaskContinuation<T> last)
    {
        ArgumentNullException.ThrowIfNull(last);
        return new(new Workflows.CallNode(this).Then(last.Open));
    }

    /// <inheritdoc/>
    internal override TaskCall<T> Opened() => new(Task, Arguments, Options, BoundClient) { FirstOpen = true };

    /// <summary>Sends the call: the task is enqueued with its bound options.</summary>
    /// <param name="cancellationToken">Cancels the enqueue itself, not the task.</param>
    /// <returns>A typed handle to await the task's result with.</returns>
    public new async Task<AsyncResult<T>> EnqueueAsync(CancellationToken cancellationToken = default)
    {
        var client = Client;
        var id = await client.SendCallAsync(this, Options, default, cancellationToken).ConfigureAwait(false);
        return new AsyncResult<T>(client, id, Task.Name);
    }
}
