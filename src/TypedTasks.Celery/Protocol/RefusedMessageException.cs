using System;

namespace TypedTasks.Celery.Protocol;

/// <summary>A message the worker will not run (pickle, protocol 1, a broken body): it is dead-lettered with <see cref="Exception.Message"/> as the reason.</summary>
internal sealed class RefusedMessageException(string reason, string excType = "ContentDisallowed", string excModule = "kombu.exceptions") : Exception(reason)
{
    /// <summary>The Python exception type the caller's <c>.get()</c> raises for it.</summary>
    public string ExcType { get; } = excType;

    /// <summary>The module of <see cref="ExcType"/>.</summary>
    public string ExcModule { get; } = excModule;
}
