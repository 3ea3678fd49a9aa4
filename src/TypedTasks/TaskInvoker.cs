using System;
using System.ComponentModel;
using System.Threading.Tasks;

namespace TypedTasks;

/// <summary>Runs one task from its invocation and returns its MessagePack-encoded result (empty for none).</summary>
/// <param name="invocation">The arguments, services and cancellation of this run.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask<ReadOnlyMemory<byte>> TaskInvoker(TaskInvocation invocation);
