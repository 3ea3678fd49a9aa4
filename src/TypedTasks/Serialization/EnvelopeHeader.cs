using System;
using System.Collections.Generic;

namespace TypedTasks.Serialization;

/// <summary>The fields of an envelope ahead of its arguments.</summary>
internal readonly record struct EnvelopeHeader(
    string Id,
    string TaskName,
    string Queue,
    int Priority,
    int Attempt,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? Eta,
    DateTimeOffset? ExpiresAt,
    IReadOnlyDictionary<string, string>? Headers);
