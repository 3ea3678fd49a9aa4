using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace TypedTasks.Redis;

/// <summary>
/// Group commit for one kind of Redis call. Callers add single requests; at most one write runs
/// at a time, and it takes every request queued so far. An idle batcher writes a request at once,
/// on the caller's thread, so a lone request waits for nothing; under load the requests that
/// arrive while a write is on the wire go together in the next one. This turns a worker's 64
/// concurrent "store the state" calls into one script call, and 20,000 result reads into a few
/// dozen MGETs, without the callers knowing.
/// </summary>
/// <typeparam name="TRequest">What one caller asks for.</typeparam>
/// <typeparam name="TResponse">What that caller gets back.</typeparam>
internal sealed class Batcher<TRequest, TResponse>
{
    private readonly Func<IReadOnlyList<TRequest>, TResponse[], Task> _write;
    private readonly object _gate = new();
    private List<Request> _queued = [];
    private List<Request> _spare = [];
    private bool _writing;

    /// <param name="write">
    /// Writes a batch and fills one response per request, in order. An exception fails every
    /// request of the batch (each caller sees it and may try again); it never stops the batcher.
    /// </param>
    public Batcher(Func<IReadOnlyList<TRequest>, TResponse[], Task> write) => _write = write;

    public Task<TResponse> Add(TRequest request)
    {
        var pending = new Request(request);
        bool start;
        lock (_gate)
        {
            _queued.Add(pending);
            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            _ = WriteAllAsync();
        }

        return pending.Task;
    }

    /// <summary>Writes batches until none is queued; only one runs at a time.</summary>
    private async Task WriteAllAsync()
    {
        while (true)
        {
            List<Request> batch;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _writing = false;
                    return;
                }

                batch = _queued;
                _queued = _spare;
                _spare = [];
            }

            var requests = new TRequest[batch.Count];
            for (var i = 0; i < requests.Length; i++)
            {
                requests[i] = batch[i].Value;
            }

            var responses = new TResponse[requests.Length];
            Exception? failure = null;
            try
            {
                await _write(requests, responses).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (failure is null)
                {
                    batch[i].TrySetResult(responses[i]);
                }
                else
                {
                    batch[i].TrySetException(failure);
                }
            }

            batch.Clear();
            lock (_gate)
            {
                _spare = batch;
            }
        }
    }

    /// <summary>A queued request and its caller's completion; continuations run on the thread pool, never inside the next write.</summary>
    private sealed class Request(TRequest value) : TaskCompletionSource<TResponse>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public TRequest Value { get; } = value;
    }
}
