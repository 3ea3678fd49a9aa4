using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using TypedTasks;

namespace Invoicing;

/// <summary>An invoice line.</summary>
public sealed record Line(string Item, int Quantity, decimal UnitPrice);

/// <summary>What the worker hands back for an invoice.</summary>
public sealed record InvoiceSummary(string Customer, int Lines, decimal Total, string Worker);

/// <summary>Tasks run by the worker; an instance class, created from DI for each run.</summary>
public sealed class InvoiceTasks(ILogger<InvoiceTasks> logger)
{
    /// <summary>Totals an invoice; retried up to three times if it fails.</summary>
    [Task("invoicing.total", Queue = "invoicing", MaxRetries = 3, Timeout = "00:00:30")]
    public async Task<InvoiceSummary> Total(string customer, Line[] lines, CancellationToken ct)
    {
        await Task.Delay(100, ct); // real work would render and store a PDF here
        logger.LogInformation("Totalled the invoice of {Customer}", customer);
        return new InvoiceSummary(customer, lines.Length, lines.Sum(l => l.Quantity * l.UnitPrice), $"{Environment.MachineName}:{Environment.ProcessId}");
    }
}
