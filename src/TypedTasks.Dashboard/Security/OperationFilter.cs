using System.Threading.Tasks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace TypedTasks.Dashboard.Security;

/// <summary>Every operation: refused when the dashboard is read-only, and only with the form token of a page this dashboard served.</summary>
internal sealed class OperationFilter(DashboardOptions options, IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (options.ReadOnly)
        {
            return Results.Text("This dashboard is read-only (DashboardOptions.ReadOnly): it shows tasks and changes none.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context.HttpContext).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.Text("The operation was refused: its form token is missing or stale (a form not sent from this dashboard, or an expired page). Reload the page and try again.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        return await next(context).ConfigureAwait(false);
    }
}
