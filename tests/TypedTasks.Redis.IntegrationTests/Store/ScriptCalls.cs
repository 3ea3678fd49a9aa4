using System;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>Script calls counted on every master (INFO commandstats), for tests that say which calls a path makes.</summary>
internal static class ScriptCalls
{
    private static IServer[] Masters(IConnectionMultiplexer admin) => [.. admin.GetServers().Where(s => !s.IsReplica)];

    /// <summary>Starts counting again on every master (the connection needs allowAdmin).</summary>
    public static async Task ResetAsync(IConnectionMultiplexer admin)
    {
        foreach (var server in Masters(admin))
        {
            await server.ExecuteAsync("CONFIG", "RESETSTAT");
        }
    }

    /// <summary>Script calls (FCALL, EVALSHA, EVAL) on every master since the last reset.</summary>
    public static async Task<long> CountAsync(IConnectionMultiplexer admin)
    {
        long calls = 0;
        foreach (var server in Masters(admin))
        {
            var info = (string)(await server.ExecuteAsync("INFO", "commandstats"))!;
            foreach (var line in info.Split('\n'))
            {
                if (line.StartsWith("cmdstat_fcall:", StringComparison.Ordinal) || line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal) || line.StartsWith("cmdstat_eval:", StringComparison.Ordinal))
                {
                    var from = line.IndexOf("calls=", StringComparison.Ordinal) + 6;
                    calls += long.Parse(line[from..line.IndexOf(',', from)], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return calls;
    }
}
