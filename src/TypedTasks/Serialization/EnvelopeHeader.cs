using System;
using System.Collections.Generic;

namespace TypedTasks.Serialization;

/// <summary>The fields of a version 2 envelope ahead of its arguments; the store keeps the id, queue, priority and attempt.</summary>
internal readonly record struct EnvelopeHeader(
    string TaskName,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? Eta,
    DateTimeOffset? ExpiresAt,
    IReadOnlyDictionary<string, string>? Headers);
