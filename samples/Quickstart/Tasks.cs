using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TypedTasks;

namespace Quickstart;

/// <summary>A plain record: it travels as a task argument and result with no attributes.</summary>
public sealed record Invoice(string Customer, decimal[] Lines);

/// <summary>What <see cref="QuickstartTasks.Total"/> returns.</summary>
public sealed record InvoiceTotal(string Customer, decimal Total, int LineCount);

/// <summary>The tasks of the quickstart.</summary>
public static class QuickstartTasks
{
    private static readonly ConcurrentDictionary<string, int> Attempts = new();

    /// <summary>Adds two numbers.</summary>
    [Task]
    public static int Add(int x, int y) => x + y;

    /// <summary>Totals an invoice, taking a moment as real work would.</summary>
    [Task("invoices.total")]
    public static async Task<InvoiceTotal> Total(Invoice invoice, CancellationToken ct)
    {
        await Task.Delay(50, ct);
        return new InvoiceTotal(invoice.Customer, invoice.Lines.Sum(), invoice.Lines.Length);
    }

    /// <summary>Always fails: shows what a caller sees of a remote exception.</summary>
    [Task]
    public static int Divide(int x, int y) => y == 0 ? throw new DivideByZeroException($"cannot divide {x} by zero") : x / y;

    /// <summary>Fails on its first two runs, then succeeds: shows retries with backoff.</summary>
    [Task(MaxRetries = 3, RetryDelay = "00:00:00.200")]
    public static string Fetch(string url)
    {
        var attempt = Attempts.AddOrUpdate(url, 1, (_, n) => n + 1);
        if (attempt < 3)
        {
            throw new TimeoutException($"{url} did not answer (attempt {attempt})");
        }

        return $"{url} answered on attempt {attempt}";
    }
}
