using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.Dashboard;
using TypedTasks.Testing;

namespace TypedTasks.Benchmarks;

/// <summary>
/// D1-dashboard: the server time of the overview and of a queue's first page, with a queue of
/// 100 pending tasks and one of 1,000,000 (DASH_N), the Redis commands each page view costs, and
/// what 50 open browsers cost the store against one. One JSON line per measure.
/// </summary>
internal static class DashboardScenario
{
    public static async Task<int> RunAsync()
    {
        var big = Env("DASH_N", 1_000_000);
        var views = Env("DASH_VIEWS", 200);
        var listeners = Env("DASH_LISTENERS", 50);
        await using var redis = await RedisServer.StartAsync();
        using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},allowAdmin=true");
        var server = admin.GetServer(redis.Endpoint);

        var timings = new ConcurrentQueue<double>();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddTypedTasks(o => o.UseRedis(redis.Endpoint));
        builder.Services.AddTypedTasksDashboard();
        await using var app = builder.Build();
        app.Use(async (context, next) =>
        {
            // Server time: from the request's arrival at the app to the end of its answer.
            var watch = Stopwatch.StartNew();
            await next(context);
            if (!context.Request.Path.Value!.EndsWith("/events", StringComparison.Ordinal))
            {
                timings.Enqueue(watch.Elapsed.TotalMilliseconds);
            }
        });
        app.MapTypedTasksDashboard("/tasks", o => o.LiveInterval = TimeSpan.FromSeconds(1));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var client = app.Services.GetRequiredService<TaskClient>();

        await FillAsync(client, "small", 100);
        await FillAsync(client, "big", big);
        foreach (var (name, path) in new[]
        {
            ("overview", "/tasks"),
            ("queue-100", "/tasks/queue?name=small&state=Pending"),
            ($"queue-{big}", "/tasks/queue?name=big&state=Pending"),
        })
        {
            for (var i = 0; i < 20; i++)
            {
                (await http.GetAsync(path)).EnsureSuccessStatusCode();
            }

            timings.Clear();
            var before = await CommandsAsync(server);
            for (var i = 0; i < views; i++)
            {
                (await http.GetAsync(path)).EnsureSuccessStatusCode();
            }

            var commands = (await CommandsAsync(server) - before - 1) / (double)views;
            var sorted = timings.Order().ToArray();
            Emit(new()
            {
                ["scenario"] = "D1-dashboard",
                ["page"] = name,
                ["views"] = views,
                ["server_ms_p50"] = Math.Round(Percentile(sorted, 50), 2),
                ["server_ms_p95"] = Math.Round(Percentile(sorted, 95), 2),
                ["server_ms_p99"] = Math.Round(Percentile(sorted, 99), 2),
                ["redis_commands_per_view"] = Math.Round(commands, 1),
                ["loadavg_1m"] = LoadAverage(),
            });
        }

        foreach (var count in new[] { 1, listeners })
        {
            using var stop = new CancellationTokenSource();
            var streams = Enumerable.Range(0, count).Select(_ => ListenAsync(address, stop.Token)).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var before = await CommandsAsync(server);
            await Task.Delay(TimeSpan.FromSeconds(10));
            var perSecond = (await CommandsAsync(server) - before - 1) / 10.0;
            await stop.CancelAsync();
            var received = await Task.WhenAll(streams);
            Emit(new()
            {
                ["scenario"] = "D1-dashboard",
                ["page"] = "live",
                ["browsers"] = count,
                ["redis_commands_per_s"] = Math.Round(perSecond, 1),
                ["snapshots_per_browser"] = Math.Round(received.Average(), 1),
                ["loadavg_1m"] = LoadAverage(),
            });
        }

        await app.StopAsync();
        return 0;
    }

    private static async Task FillAsync(TaskClient client, string queue, int n)
    {
        const int Chunk = 50_000;
        var proxy = Tasks.Add.WithClient(client).With(new EnqueueOptions { Queue = queue });
        for (var sent = 0; sent < n; sent += Chunk)
        {
            await proxy.EnqueueManyAsync(Enumerable.Range(sent, Math.Min(Chunk, n - sent)).Select(i => (i, i)));
        }
    }

    /// <summary>One browser's EventSource: counts the snapshots it receives until stopped.</summary>
    private static async Task<int> ListenAsync(string address, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
        var received = 0;
        try
        {
            using var stream = await http.GetStreamAsync("/tasks/events", stop);
            using var reader = new System.IO.StreamReader(stream);
            while (await reader.ReadLineAsync(stop) is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    received++;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return received;
    }

    /// <summary>The server's total commands so far (INFO counts itself, hence the -1 per reading pair).</summary>
    private static async Task<long> CommandsAsync(StackExchange.Redis.IServer server)
    {
        var info = await server.InfoAsync("stats");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "total_commands_processed").Value, CultureInfo.InvariantCulture);
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Max(1, (int)Math.Ceiling(p / 100 * sorted.Length)) - 1];

    private static double LoadAverage() => double.Parse(System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    private static void Emit(Dictionary<string, object?> line) => Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(line));
}
