using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Store;

namespace TypedTasks.Redis.Store;

/// <summary>
/// The schedules: one hash per schedule (<c>P:{schedules}:schedule:&lt;name&gt;</c>: <c>d</c> the
/// definition, <c>g</c> the generation, <c>n</c> the next fire time, <c>p</c> paused, <c>lf</c>
/// and <c>lt</c> the last run, <c>tr</c> a trigger request) and the set of names
/// (<c>P:{schedules}:schedules</c>), all in one hash slot, each change one script. A change other
/// than an advance or a completed trigger is announced on the wake channel
/// (<see cref="ScheduleChangeMessage"/>), for the workers' <see cref="IScheduleChangeFeed"/>.
/// </summary>
public sealed partial class RedisTaskStore
{
    /// <summary>The wake channel's message for a change to the schedules: braces are never in a queue name.</summary>
    internal const string ScheduleChangeMessage = "{schedules}";

    private readonly List<Action> _scheduleWatchers = [];

    /// <inheritdoc/>
    /// <remarks>The store's <see cref="RedisTransportOptions.SafetyLookInterval"/>.</remarks>
    public TimeSpan ScheduleSafetyLookInterval => _options.SafetyLookInterval;

    /// <inheritdoc/>
    /// <remarks>
    /// Heard on the wake channel, which the store subscribes to once for all its duties; a
    /// reconnect of the subscription calls <paramref name="changed"/> too, since announcements
    /// may have been lost meanwhile.
    /// </remarks>
    public async ValueTask<IAsyncDisposable> WatchScheduleChangesAsync(Action changed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changed);
        await _wake.EnsureAsync().ConfigureAwait(false);
        return new Watchers(_scheduleWatchers, changed);
    }

    /// <summary>Tells every schedule watcher that the schedules may have changed.</summary>
    private void SchedulesChanged() => Watchers.Call(_scheduleWatchers);

    private string SchedulesKey => _prefix + ":{schedules}:schedules";

    private string ScheduleKeyPrefix => _prefix + ":{schedules}:schedule:";

    /// <inheritdoc/>
    public async ValueTask<StoredSchedule> UpsertScheduleAsync(string name, string definition, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(definition);
        var result = await RunAsync(StoreScript.ScheduleUpsert, [SchedulesKey, ScheduleKeyPrefix + name], [name, definition, Ms(nextFireAt), _wakeChannel.ToString(), ScheduleChangeMessage]).ConfigureAwait(false);
        return ReadSchedule(name, (RedisResult[])result!)!;
    }

    /// <inheritdoc/>
    public async ValueTask<StoredSchedule?> GetScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        HashEntry[] fields;
        try
        {
            fields = await Transient.Run(_db.HashGetAllAsync(ScheduleKeyPrefix + name)).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            return Unreadable(name, $"its key {ScheduleKeyPrefix}{name} cannot be read ({ex.Message})");
        }

        return fields.Length == 0 ? null : ReadSchedule(name, fields.ToDictionary(f => (string)f.Name!, f => f.Value, StringComparer.Ordinal));
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredSchedule>> ListSchedulesAsync(CancellationToken cancellationToken = default)
    {
        var all = (RedisResult[])(await RunAsync(StoreScript.ScheduleList, [SchedulesKey], [ScheduleKeyPrefix]).ConfigureAwait(false))!;
        var schedules = new List<StoredSchedule>(all.Length / 2);
        for (var i = 0; i + 1 < all.Length; i += 2)
        {
            if (ReadSchedule((string)all[i]!, (RedisResult[])all[i + 1]!) is { } schedule)
            {
                schedules.Add(schedule);
            }
        }

        schedules.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return schedules;
    }

    /// <inheritdoc/>
    /// <remarks>Concurrent advances (a round fires its due schedules together) go in one script call.</remarks>
    public async ValueTask<bool> AdvanceAsync(string name, long generation, DateTimeOffset expectedNext, DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, string? lastTaskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return await _advances.Add(new AdvanceRequest(ScheduleKeyPrefix + name, [generation.ToString(CultureInfo.InvariantCulture), Ms(expectedNext), Ms(nextFireAt), Ms(lastFireAt), lastTaskId ?? string.Empty])).ConfigureAwait(false);
    }

    /// <summary>Writes a batch of advances, <see cref="BatchLimit"/> per script call (all in the schedules' slot).</summary>
    private async Task WriteAdvancesAsync(IReadOnlyList<AdvanceRequest> requests, bool[] answers)
    {
        for (var start = 0; start < requests.Count; start += BatchLimit)
        {
            var count = Math.Min(BatchLimit, requests.Count - start);
            var keys = new RedisKey[count];
            var args = new List<RedisValue>(5 * count);
            for (var i = 0; i < count; i++)
            {
                keys[i] = requests[start + i].Key;
                args.AddRange(requests[start + i].Arguments);
            }

            var moved = (RedisResult[])(await RunAsync(StoreScript.ScheduleAdvance, keys, args).ConfigureAwait(false))!;
            for (var i = 0; i < count; i++)
            {
                answers[start + i] = (long)moved[i] == 1;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> SetPausedAsync(string name, bool paused, DateTimeOffset? nextFireAt, CancellationToken cancellationToken = default)
        => ChangeAsync(name, "pause", paused ? "1" : "0", Ms(nextFireAt));

    /// <inheritdoc/>
    public ValueTask<bool> RequestTriggerAsync(string name, DateTimeOffset at, CancellationToken cancellationToken = default)
        => ChangeAsync(name, "trigger", Ms(at));

    /// <inheritdoc/>
    public ValueTask<bool> CompleteTriggerAsync(string name, DateTimeOffset requestedAt, string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        return ChangeAsync(name, "triggered", Ms(requestedAt), taskId);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> RemoveScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);

        // Announced first: a PUBLISH the server refuses (an ACL user without the channel) fails
        // the call with nothing removed. A worker that reads before the removal sees it at its
        // next read, which comes before any fire.
        await Transient.Run(_db.PublishAsync(_wakeChannel, ScheduleChangeMessage)).ConfigureAwait(false);
        var batch = _db.CreateBatch();
        var deleted = batch.KeyDeleteAsync(ScheduleKeyPrefix + name);
        var removed = batch.SetRemoveAsync(SchedulesKey, name);
        batch.Execute();
        await Transient.Run(Task.WhenAll(deleted, removed)).ConfigureAwait(false);
        return await deleted.ConfigureAwait(false);
    }

    private async ValueTask<bool> ChangeAsync(string name, string operation, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        List<RedisValue> args = [operation, _wakeChannel.ToString(), ScheduleChangeMessage, .. arguments.Select(a => (RedisValue)a)];
        return (long)await RunAsync(StoreScript.ScheduleChange, [ScheduleKeyPrefix + name], args).ConfigureAwait(false) == 1;
    }

    private static string Ms(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private StoredSchedule? ReadSchedule(string name, RedisResult[] pairs)
    {
        var fields = new Dictionary<string, RedisValue>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            fields[(string)pairs[i]!] = (RedisValue)pairs[i + 1];
        }

        return ReadSchedule(name, fields);
    }

    /// <summary>
    /// A schedule from its hash; null when the hash lacks its definition (a partial write cannot
    /// happen, but a hand edit can). A field that is no number (a hand edit) makes it a schedule
    /// with a <see cref="StoredSchedule.Problem"/>, listed and never fired: the others go on.
    /// </summary>
    private StoredSchedule? ReadSchedule(string name, Dictionary<string, RedisValue> fields)
    {
        if (fields.TryGetValue(UnreadableField, out var error))
        {
            return Unreadable(name, $"its key {ScheduleKeyPrefix}{name} cannot be read ({error})");
        }

        if (!fields.TryGetValue("d", out var definition) || !fields.TryGetValue("g", out var generation))
        {
            return null;
        }

        if ((BadNumber(fields, "g") ?? BadNumber(fields, "n") ?? BadNumber(fields, "lf") ?? BadNumber(fields, "tr")) is { } bad)
        {
            return Unreadable(name, $"the field {bad} of its key {ScheduleKeyPrefix}{name} is no whole number ('{fields[bad]}'); upsert the schedule again, or remove it");
        }

        return new StoredSchedule(
            name,
            (string)definition!,
            long.Parse((string)generation!, CultureInfo.InvariantCulture),
            Time(fields, "n"),
            fields.TryGetValue("p", out var paused) && paused == "1",
            Time(fields, "lf"),
            fields.TryGetValue("lt", out var last) && !last.IsNullOrEmpty ? (string)last! : null,
            Time(fields, "tr"));
    }

    /// <summary>The field schedule_list.lua answers for a key it could not read (no schedule field has this name).</summary>
    private const string UnreadableField = "!";

    private static StoredSchedule Unreadable(string name, string problem)
        => new(name, string.Empty, 0, null, false, null, null, null) { Problem = problem };

    /// <summary>The name of <paramref name="field"/> when it is present and no whole number (in range), else null.</summary>
    private static string? BadNumber(Dictionary<string, RedisValue> fields, string field)
        => fields.TryGetValue(field, out var value) && !value.IsNullOrEmpty
            && !long.TryParse((string)value!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) | (field != "g" && (number < -62_135_596_800_000 || number > 253_402_300_799_999))
            ? field : null;

    /// <summary>One schedule's advance: its hash, and the script's five arguments for it.</summary>
    private readonly record struct AdvanceRequest(RedisKey Key, RedisValue[] Arguments);

    private static DateTimeOffset? Time(Dictionary<string, RedisValue> fields, string field)
        => fields.TryGetValue(field, out var value) && !value.IsNullOrEmpty
            ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)value!, CultureInfo.InvariantCulture))
            : null;
}
