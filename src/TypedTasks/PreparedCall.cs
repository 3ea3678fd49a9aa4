using System;
using System.Collections.Generic;

namespace TypedTasks;

/// <summary>A call made into what the store keeps, not sent: for workflows, which send it themselves or leave it to a join.</summary>
/// <param name="Queue">The queue it goes to.</param>
/// <param name="Priority">Its priority.</param>
/// <param name="Envelope">Its envelope; the arguments are its last field.</param>
/// <param name="DueAt">When it may run, if later than now.</param>
/// <param name="ArgumentAt">The offset of its first argument within <paramref name="Envelope"/>.</param>
/// <param name="Limits">The limits it starts under (<see cref="TaskLimits"/>), or null.</param>
internal readonly record struct PreparedCall(string Queue, int Priority, ReadOnlyMemory<byte> Envelope, DateTimeOffset? DueAt, int ArgumentAt, IReadOnlyList<Store.TaskLimit>? Limits);
