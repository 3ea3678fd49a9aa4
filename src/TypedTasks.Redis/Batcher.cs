using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks.Store;

namespace TypedTasks.Redis;

/// <summary>
/// Group commit for one kind of Redis call. Callers add single requests; at most one write runs
/// at a time, and it takes every request queued so far. An idle batcher writes a request at once,
/// on the caller's thread, so a lone request waits for nothing; under load the requests that
/// arrive while a write is on the wire go together in the next one. This turns a worker's 64
/// concurrent "store the state" calls into one script call, and 20,000 result reads into a few
/// dozen MGETs, without the callers knowing. Calls started under a <see cref="StoreCallHold"/>
/// wait for its end, and go together.
/// </summary>
/// <typeparam name="TRequest">What one caller asks for.</typeparam>
/// <typeparam name="TResponse">What that caller gets back.</typeparam>
internal sealed class Batcher<TRequest, TResponse>
{
    private readonly Func<IReadOnlyList<TRequest>, TResponse[], Task> _write;
    private readonly bool _shortCallers;
    private readonly Action _startWrite;
    private readonly object _gate = new();
    private List<Request> _queued = [];
    private bool _writing;

    /// <param name="write">
    /// Writes a batch and fills one response per request, in order. An exception fails every
    /// request of the batch (each caller sees it and may try again); it never stops the batcher.
    /// </param>
    /// <param name="shortCallers">
    /// True when every caller is the transport's own code that does little before its next
    /// await (the worker's outcome writes and acks): all of a batch's callers then continue in
    /// turn on the writer's thread, with no thread-pool item each. Otherwise only the first does.
    /// </param>
    public Batcher(Func<IReadOnlyList<TRequest>, TResponse[], Task> write, bool shortCallers = false)
    {
        _write = write;
        _shortCallers = shortCallers;
        _startWrite = () => _ = WriteBatchAsync();
    }

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

        if (start && !StoreCallHold.Defer(_startWrite))
        {
            _ = WriteBatchAsync();
        }

        return pending.Task;
    }

    /// <summary>
    /// Writes the requests queued so far, then hands on: if more queued meanwhile, the next write
    /// starts on the thread pool; the callers are completed last. The first caller continues on
    /// this thread (a lone request pays no thread switch), the others on the thread pool, so a
    /// caller that runs long after its request never holds up the batcher or the other callers.
    /// </summary>
    private async Task WriteBatchAsync()
    {
        List<Request> batch;
        lock (_gate)
        {
            batch = _queued;
            _queued = [];
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

        bool more;
        lock (_gate)
        {
            more = _queued.Count > 0;
            _writing = more;
        }

        if (more)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static batcher => _ = batcher.WriteBatchAsync(), this, preferLocal: false);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Outcome(failure is null ? responses[i] : default!, failure);
        }

        if (_shortCallers)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Execute();
            }

            return;
        }

        for (var i = 1; i < batch.Count; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(batch[i], preferLocal: true);
        }

        batch[0].Execute();
    }

    /// <summary>A queued request and its caller's completion.</summary>
    private sealed class Request(TRequest value) : TaskCompletionSource<TResponse>, IThreadPoolWorkItem
    {
        private TResponse _response = default!;
        private Exception? _failure;

        public TRequest Value { get; } = value;

        public void Outcome(TResponse response, Exception? failure)
        {
            _response = response;
            _failure = failure;
        }

        /// <summary>Completes the caller; its continuation runs on the thread that calls this.</summary>
        public void Execute()
        {
            if (_failure is null)
            {
                TrySetResult(_response);
            }
            else
            {
                TrySetException(_failure);
            }
        }
    }
}
