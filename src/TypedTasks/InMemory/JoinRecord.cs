using System;
using System.Buffers;
using System.Threading.Tasks;
using MessagePack;
using TypedTasks.Serialization;
using TypedTasks.Store;

namespace TypedTasks.InMemory;

/// <summary>A workflow join kept by the in-memory store: what it waits for and what has arrived.</summary>
internal sealed class JoinRecord(WorkflowJoin join)
{
    public WorkflowJoin Join { get; } = join;

    /// <summary>Per member, its final state once it ended (Pending while it has not).</summary>
    public TaskState[] States { get; } = new TaskState[join.Members];

    /// <summary>Per member, its encoded result (Succeeded) or error.</summary>
    public byte[]?[] Results { get; } = new byte[]?[join.Members];

    public TaskError?[] Errors { get; } = new TaskError?[join.Members];

    public int Arrived { get; set; }

    /// <summary>"open", "done" or "failed", as the Redis store names them.</summary>
    public string State { get; set; } = "open";

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Completed when the successor is made: waiters on its id read it then.</summary>
    public TaskCompletionSource Made { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The successor's first argument: one result, the results, or the outcomes, as the Redis store writes them.</summary>
    public byte[] Argument()
    {
        if (Join.Mode == JoinMode.One)
        {
            return Results[0] ?? [0xc0];
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(Join.Members);
        for (var i = 0; i < Join.Members; i++)
        {
            if (Join.Mode == JoinMode.All)
            {
                writer.WriteRaw(Results[i] ?? [0xc0]);
                continue;
            }

            writer.WriteArrayHeader(3);
            writer.Write((int)States[i]);
            if (States[i] == TaskState.Succeeded)
            {
                writer.WriteRaw(Results[i] ?? [0xc0]);
                writer.WriteNil();
            }
            else
            {
                writer.WriteNil();
                if (Errors[i] is { } error)
                {
                    TaskErrorCodec.Write(ref writer, error);
                }
                else
                {
                    writer.WriteNil();
                }
            }
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
