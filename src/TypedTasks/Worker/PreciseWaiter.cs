using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Worker;

/// <summary>
/// Ends waits at their time on the system's monotonic clock, to a fraction of a millisecond, on
/// one thread for all of them. The system's timers count a coarse clock (4 ms steps on Linux) and
/// end on a thread-pool hop, up to a few milliseconds late; this thread sleeps until about a
/// millisecond before the earliest wait is due (a sleep on a thread is not rounded to that clock),
/// spins the rest, then ends every wait due by then at once. Ten waits for the same instant hold
/// this one thread, not ten. A wait's continuation runs on the thread pool (one hop, with no timer
/// in it), never on this thread. The thread ends when it has had nothing to wait for a while, and
/// starts again with the next wait.
/// </summary>
internal sealed class PreciseWaiter
{
    private static readonly TimeSpan IdleEnd = TimeSpan.FromSeconds(5);

    private readonly List<Waiting> _waits = [];
    private bool _running;

    /// <summary>A task that completes when <see cref="Stopwatch.GetTimestamp"/> reaches <paramref name="due"/>, or is canceled by <paramref name="token"/>.</summary>
    public Task WaitUntilAsync(long due, CancellationToken token)
    {
        if (Stopwatch.GetTimestamp() >= due)
        {
            return Task.CompletedTask;
        }

        var waiting = new Waiting(due);
        if (token.CanBeCanceled)
        {
            waiting.Cancellation = token.Register(static state => ((Waiting)state!).Done.TrySetCanceled(), waiting);
        }

        lock (_waits)
        {
            _waits.Add(waiting);
            if (!_running)
            {
                _running = true;
                new Thread(Run) { IsBackground = true, Name = "TypedTasks precise waits" }.Start();
            }
            else
            {
                Monitor.Pulse(_waits);
            }
        }

        return waiting.Done.Task;
    }

    /// <summary>
    /// Blocks the calling thread until <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp):
    /// a sleep to the last whole millisecond before it, then the rest yielding, at most a
    /// millisecond of it.
    /// </summary>
    public static void BlockUntil(long due)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
        if (left >= TimeSpan.FromMilliseconds(1))
        {
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Floor(left.TotalMilliseconds)));
        }

        Spin(due);
    }

    /// <summary>Yields until <paramref name="due"/>, at most a millisecond.</summary>
    private static void Spin(long due)
    {
        var spin = default(SpinWait);
        var bound = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
        while (Stopwatch.GetTimestamp() is var now && now < due && now < bound)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void Run()
    {
        var due = new List<Waiting>();
        while (true)
        {
            long earliest;
            lock (_waits)
            {
                _waits.RemoveAll(w => w.Done.Task.IsCompleted);
                if (_waits.Count == 0)
                {
                    if (!Monitor.Wait(_waits, IdleEnd) && _waits.Count == 0)
                    {
                        _running = false;
                        return;
                    }

                    continue;
                }

                earliest = long.MaxValue;
                foreach (var waiting in _waits)
                {
                    earliest = Math.Min(earliest, waiting.Due);
                }

                // Sleeps while more than a millisecond is left; a new, earlier wait pulses it.
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), earliest);
                if (left >= TimeSpan.FromMilliseconds(1))
                {
                    Monitor.Wait(_waits, TimeSpan.FromMilliseconds(Math.Floor(left.TotalMilliseconds)));
                    continue;
                }
            }

            Spin(earliest);
            lock (_waits)
            {
                var now = Stopwatch.GetTimestamp();
                _waits.RemoveAll(w =>
                {
                    if (w.Due > now)
                    {
                        return false;
                    }

                    due.Add(w);
                    return true;
                });
            }

            foreach (var waiting in due)
            {
                waiting.Cancellation.Dispose();
                waiting.Done.TrySetResult();
            }

            due.Clear();
        }
    }

    private sealed class Waiting(long due)
    {
        public long Due { get; } = due;

        // Continuations go to the thread pool: the held task's code never runs on the waiter's thread.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Cancellation { get; set; }
    }
}
