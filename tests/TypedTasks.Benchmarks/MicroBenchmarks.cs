using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using TypedTasks.InMemory;
using TypedTasks.Serialization;

namespace TypedTasks.Benchmarks;

/// <summary>
/// The hot paths in isolation, with allocations: the envelope (write and read), one enqueue into
/// the in-memory broker (proxy, client, envelope, state), and one dispatch through the generated
/// table. Run with: dotnet run -c Release --project tests/TypedTasks.Benchmarks -- micro
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RuntimeMoniker.Net10_0, warmupCount: 3, iterationCount: 10)]
public class MicroBenchmarks
{
    private readonly byte[] _envelope = TaskEnvelope.Write(
        new EnvelopeHeader("bench.add", DateTimeOffset.UnixEpoch, null, null, null),
        new AddArgs(2, 3),
        TaskSerializer.Options);

    private TaskClient _client = null!;
    private InMemoryTaskStore _store = null!;
    private TaskDescriptor _add = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store = new InMemoryTaskStore();
        _client = new TaskClient(_store);
        _add = Tasks.Add.Descriptor;
    }

    [Benchmark]
    public byte[] EnvelopeWrite() => TaskEnvelope.Write(
        new EnvelopeHeader("bench.add", DateTimeOffset.UnixEpoch, null, null, null),
        new AddArgs(2, 3),
        TaskSerializer.Options);

    [Benchmark]
    public int EnvelopeRead() => TaskEnvelope.Read(_envelope).Arguments.Length;

    /// <summary>Tasks.Add.EnqueueAsync(2, 3) into the in-memory store: everything a producer does per task.</summary>
    [Benchmark]
    public async Task<string> EnqueueInMemory()
    {
        var result = await Tasks.Add.WithClient(_client).EnqueueAsync(2, 3);
        if ((await _store.CountAsync("default")).Pending > 100_000)
        {
            // Keep the store small: drain what piled up.
            await _store.PurgeAsync("default", int.MaxValue);
        }

        return result.Id;
    }

    /// <summary>
    /// S4's send: a chord of 1,000 <c>Add</c> members and a <c>Sum</c> callback into the in-memory
    /// store (calls made, compiled to joins and starts, stored): the producer's part of a chord.
    /// </summary>
    [Benchmark]
    public async Task<string> ChordSendInMemory()
    {
        var chord = await Workflows.TaskGroup.Of(Enumerable.Range(0, 1000).Select(i => Tasks.Add.WithClient(_client).Call(i, i))).Then(Tasks.Sum).EnqueueAsync();
        await _store.PurgeAsync("default", int.MaxValue);
        return chord.Id;
    }

    /// <summary>One run through the generated dispatch table: decode the arguments, call Add, encode the result.</summary>
    [Benchmark]
    public async Task<int> Dispatch()
    {
        var envelope = TaskEnvelope.Read(_envelope);
        await using var invocation = new TaskInvocation(null!, envelope.TaskName, envelope.Arguments, TaskSerializer.Options, CancellationToken.None);
        var result = await _add.Invoker(invocation);
        return result.Length;
    }

    private readonly struct AddArgs(int x, int y) : ITaskArguments
    {
        public void Write(ref MessagePack.MessagePackWriter writer, MessagePack.MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(2);
            writer.Write(x);
            writer.Write(y);
        }
    }
}
