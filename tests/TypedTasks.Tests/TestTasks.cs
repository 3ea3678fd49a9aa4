using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;

namespace TypedTasks.Tests;

public enum Shade
{
    Light,
    Dark,
}

/// <summary>A plain record with no serializer attributes: it must just work.</summary>
public sealed record Order(Guid Id, string Customer, decimal Total, DateTimeOffset PlacedAt, List<string> Lines, Dictionary<string, int> Counts, Shade Shade, TimeSpan? Window);

/// <summary>A plain mutable class with a parameterless constructor.</summary>
public sealed class Summary
{
    public string Title { get; set; } = string.Empty;

    public int[] Numbers { get; set; } = [];

    public DateTime At { get; set; }
}

[MessagePackObject]
public sealed class Attributed
{
    [Key(0)]
    public int Value { get; set; }

    [Key(1)]
    public string? Note { get; set; }
}

public static class ShapeTasks
{
    [Task("tests.add")]
    public static int Add(int x, int y) => x + y;

    [Task("tests.echo-order")]
    public static Order EchoOrder(Order order) => order with { Customer = order.Customer.ToUpperInvariant() };

    [Task("tests.summarize")]
    public static async Task<Summary> Summarize(List<int> numbers, string? title, CancellationToken ct)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        return new Summary { Title = title ?? "(none)", Numbers = [.. numbers.OrderBy(n => n)], At = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc) };
    }

    [Task("tests.attributed")]
    public static ValueTask<Attributed> Twice(Attributed value) => new(new Attributed { Value = value.Value * 2, Note = value.Note });

    [Task("tests.nullable")]
    public static int? Half(int? value, Guid? marker = null) => value / 2;

    [Task("tests.defaults")]
    public static string Greet(string name, string greeting = "Hello", int times = 1) => string.Join(" ", Enumerable.Repeat($"{greeting}, {name}!", times));

    [Task("tests.void")]
    public static void Record(string key, int value) => Recorded[key] = value;

    [Task("tests.task")]
    public static async Task RecordLater(string key, int value)
    {
        await Task.Delay(5);
        Recorded[key] = value;
    }

    [Task("tests.valuetask")]
    public static ValueTask RecordNow(string key) { Recorded[key] = 1; return default; }

    [Task("tests.pause")]
    public static async Task<int> Pause(int milliseconds, CancellationToken ct)
    {
        await Task.Delay(milliseconds, ct);
        return milliseconds;
    }

    [Task("tests.reports", Queue = "reports")]
    public static string Report(string name) => "report:" + name;

    public static ConcurrentDictionary<string, int> Recorded { get; } = new();
}

public static class FaultTasks
{
    [Task("tests.fail")]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    /// <summary>Fails until it has been called <paramref name="failures"/> times for <paramref name="key"/>.</summary>
    [Task("tests.flaky", MaxRetries = 3, RetryDelay = "00:00:00.050")]
    public static int Flaky(string key, int failures)
    {
        var calls = Calls.AddOrUpdate(key, 1, (_, n) => n + 1);
        return calls <= failures ? throw new TimeoutException($"call {calls} failed") : calls;
    }

    [Task("tests.slow", Timeout = "00:00:00.200")]
    public static async Task<int> Slow(int milliseconds, CancellationToken ct)
    {
        await Task.Delay(milliseconds, ct);
        return milliseconds;
    }

    [Task("tests.stubborn", Timeout = "00:00:00.200")]
    public static async Task<int> Stubborn(int milliseconds)
    {
        // Ignores cancellation: the worker must still give up on it at the timeout.
        await Task.Delay(milliseconds, CancellationToken.None);
        return milliseconds;
    }

    [Task("tests.expiring", Expires = "00:00:00.100")]
    public static int Expiring() => 1;

    [Task("tests.block")]
    public static async Task<int> Block(string key, CancellationToken ct)
    {
        Started.TryAdd(key, 0);
        await Task.Delay(Timeout.Infinite, ct);
        return 0;
    }

    /// <summary>Holds its thread until released: synchronous code that never yields.</summary>
    [Task("tests.hold-thread")]
    public static int HoldThread(string key)
    {
        Started.TryAdd(key, 0);
        Gates.GetOrAdd(key, _ => new ManualResetEventSlim()).Wait(TimeSpan.FromSeconds(30));
        return 1;
    }

    public static ConcurrentDictionary<string, ManualResetEventSlim> Gates { get; } = new();

    public static ConcurrentDictionary<string, int> Calls { get; } = new();

    public static ConcurrentDictionary<string, byte> Started { get; } = new();
}

public static class TelemetryTasks
{
    [Task("tests.telemetry-ok", Queue = "telemetry")]
    public static int Double(int x) => 2 * x;

    [Task("tests.telemetry-fail", Queue = "telemetry", MaxRetries = 1, RetryDelay = "00:00:00.010")]
    public static int AlwaysFails() => throw new InvalidOperationException("telemetry failure");
}

public interface IGreeter
{
    string Greet(string name);
}

public sealed class Greeter : IGreeter
{
    public string Greet(string name) => "hi " + name;
}

/// <summary>Scoped per run: each run gets its own instance.</summary>
public sealed class ScopedCounter
{
    private static int _created;

    public ScopedCounter() => Id = Interlocked.Increment(ref _created);

    public int Id { get; }
}

/// <summary>An instance task class; registered in DI by some tests, constructed from DI services by others.</summary>
public sealed class GreetingTasks(IGreeter greeter, ScopedCounter counter)
{
    [Task("tests.greet-di")]
    public string GreetFromDi(string name) => greeter.Greet(name);

    [Task("tests.scope-id")]
    public Task<int> ScopeId() => Task.FromResult(counter.Id);
}
