using System;
using System.Collections.Generic;

namespace TypedTasks.Serialization;

/// <summary>The fields of a version 1 envelope (0.1) ahead of its arguments.</summary>
internal readonly record struct LegacyEnvelopeHeader(
    string Id,
    string TaskName,
    string Queue,
    int Priority,
    int Attempt,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? Eta,
    DateTimeOffset? ExpiresAt,
    IReadOnlyDictionary<string, string>? Headers);
