using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TypedTasks.Metrics;

namespace TypedTasks.Dashboard.Pages;

/// <summary>
/// Throughput, failures and latency over a window, drawn as inline SVG (no script, no library),
/// and a table per task: what the workers flushed to the store, so it survives their restarts.
/// </summary>
internal static class MetricsSection
{
    public static readonly (string Key, string Label, TimeSpan Window)[] Windows =
    [
        ("1h", "Last hour", TimeSpan.FromHours(1)),
        ("6h", "6 hours", TimeSpan.FromHours(6)),
        ("24h", "24 hours", TimeSpan.FromHours(24)),
        ("7d", "7 days", TimeSpan.FromDays(7)),
    ];

    public static (string Key, string Label, TimeSpan Window) Choose(string? key)
        => Windows.FirstOrDefault(w => w.Key == key) is { Key: not null } chosen ? chosen : Windows[0];

    public static void Render(Html h, DashboardContext ctx, IReadOnlyList<TaskMetrics> metrics, (string Key, string Label, TimeSpan Window) window, DateTimeOffset now)
    {
        var resolution = window.Window <= MetricsRetention.FineKept ? MetricsRetention.Fine : MetricsRetention.Coarse;
        var end = MetricsRetention.Floor(now, resolution) + resolution;
        var slots = (int)(window.Window / resolution);
        var start = end - (slots * resolution);
        var runs = new long[slots];
        var failures = new long[slots];
        var latency = new List<LatencyHistogram>[slots];
        for (var i = 0; i < slots; i++)
        {
            latency[i] = [];
        }

        foreach (var m in metrics)
        {
            var i = (int)((m.Start - start) / resolution);
            if (i >= 0 && i < slots)
            {
                runs[i] += m.Runs;
                failures[i] += m.Failures;
                latency[i].Add(m.Latency);
            }
        }

        h.Raw("<section class=\"metrics\" id=\"metrics\"><h2>Throughput and latency</h2><nav class=\"tabs\" aria-label=\"Window\">");
        foreach (var (key, label, _) in Windows)
        {
            h.Raw("<a href=\"").Text(ctx.Link("?window=" + key + "#metrics")).Raw(key == window.Key ? "\" aria-current=\"page\">" : "\">").Text(label).Raw("</a>");
        }

        h.Raw("</nav>");
        var per = resolution == MetricsRetention.Fine ? "minute" : "10 minutes";
        Bars(h, "Runs per " + per, runs, failures, start, resolution, v => v.ToString("N0", CultureInfo.InvariantCulture));
        var p95 = latency.Select(l => LatencyHistogram.Sum(l).Percentile(95) is { } t ? (long)t.TotalMilliseconds : 0L).ToArray();
        Bars(h, "p95 run time per " + per + " (ms)", p95, null, start, resolution, v => v.ToString("N0", CultureInfo.InvariantCulture) + " ms");

        var byTask = metrics.Where(m => m.Start >= start).GroupBy(m => m.TaskName, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (byTask.Count == 0)
        {
            h.Raw("<p class=\"empty\" id=\"metrics-empty\">No run ended in this window.</p></section>");
            return;
        }

        h.Raw("<table class=\"task-metrics\"><thead><tr><th>Task</th><th class=\"num\">Runs</th><th class=\"num\">Failures</th><th class=\"num\">Failure rate</th><th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">p99</th></tr></thead><tbody>");
        foreach (var task in byTask)
        {
            var histogram = LatencyHistogram.Sum(task.Select(m => m.Latency));

            var taskRuns = task.Sum(m => m.Runs);
            var taskFailures = task.Sum(m => m.Failures);
            h.Raw("<tr data-task=\"").Text(task.Key).Raw("\"><td>").Text(task.Key).Raw("</td><td class=\"num\">").Number(taskRuns).Raw("</td><td class=\"num\">").Number(taskFailures)
                .Raw("</td><td class=\"num\">").Text(taskRuns == 0 ? "–" : (100.0 * taskFailures / taskRuns).ToString("0.#", CultureInfo.InvariantCulture) + " %")
                .Raw("</td><td class=\"num\">").Text(Bound(histogram.Percentile(50))).Raw("</td><td class=\"num\">").Text(Bound(histogram.Percentile(95)))
                .Raw("</td><td class=\"num\">").Text(Bound(histogram.Percentile(99))).Raw("</td></tr>");
        }

        h.Raw("</tbody></table><p class=\"hint\">Run times are bucket bounds (≤ 1, 2, 5, 10, 20, 50 ms …): \"p95 ≤ 50 ms\" reads \"95 % of runs took at most 50 ms\".</p></section>");
    }

    private static string Bound(TimeSpan? bound)
        => bound is not { } b ? "–" : b < TimeSpan.FromSeconds(1) ? "≤ " + b.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms" : "≤ " + b.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s";

    /// <summary>A bar per interval; the red part of a bar is its failures. Each bar's title gives its time and value.</summary>
    private static void Bars(Html h, string title, long[] values, long[]? failures, DateTimeOffset start, TimeSpan resolution, Func<long, string> format)
    {
        const int Width = 720, Height = 110, Top = 6;
        var max = Math.Max(1, values.Max());
        var slot = (double)Width / values.Length;
        h.Raw("<figure class=\"chart\"><figcaption>").Text(title).Raw(" · max ").Text(format(values.Max())).Raw("</figcaption>");
        h.Raw("<svg role=\"img\" viewBox=\"0 0 ").Raw(Width.ToString(CultureInfo.InvariantCulture)).Raw(" ").Raw((Height + Top).ToString(CultureInfo.InvariantCulture)).Raw("\" preserveAspectRatio=\"none\" width=\"100%\" height=\"120\"><title>").Text(title).Raw("</title>");
        h.Raw("<line x1=\"0\" x2=\"").Raw(Width.ToString(CultureInfo.InvariantCulture)).Raw("\" y1=\"").Raw((Height + Top).ToString(CultureInfo.InvariantCulture)).Raw("\" y2=\"").Raw((Height + Top).ToString(CultureInfo.InvariantCulture)).Raw("\" stroke=\"#c7ccd6\"/>");
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] == 0)
            {
                continue;
            }

            var x = i * slot;
            var height = Math.Max(1, (double)values[i] / max * Height);
            var failed = failures is null ? 0 : (double)failures[i] / max * Height;
            var at = (start + (i * resolution)).UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
            h.Raw("<g><title>").Text($"{at}: {format(values[i])}" + (failures is null ? string.Empty : $", {failures[i]} failed")).Raw("</title>");
            Rect(h, x, Top + Height - height, Math.Max(1, slot - 1), height - failed, "#2f5bd3");
            if (failed > 0)
            {
                Rect(h, x, Top + Height - failed, Math.Max(1, slot - 1), failed, "#b42318");
            }

            h.Raw("</g>");
        }

        h.Raw("</svg></figure>");
    }

    private static void Rect(Html h, double x, double y, double width, double height, string fill)
        => h.Raw("<rect x=\"").Raw(N(x)).Raw("\" y=\"").Raw(N(y)).Raw("\" width=\"").Raw(N(width)).Raw("\" height=\"").Raw(N(Math.Max(0, height))).Raw("\" fill=\"").Raw(fill).Raw("\"/>");

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
