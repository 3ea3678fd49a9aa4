using System.Linq;
using System.Net;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace TypedTasks.Dashboard.Security;

/// <summary>
/// Secure by default: until an authorization policy is attached to the dashboard (or it is opened
/// with <see cref="DashboardOptions.AllowRemoteRequests"/>), only requests from this machine are
/// answered. The operations policy of the dashboard's own POSTs does not count as attached.
/// </summary>
internal sealed class AccessFilter(DashboardOptions options, IAuthorizeData? ownOperationsPolicy) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (options.AllowRemoteRequests || IsLocal(http) || HasPolicy(http))
        {
            return next(context);
        }

        return ValueTask.FromResult<object?>(Results.Text(
            "The TypedTasks dashboard answers only requests from this machine until it is protected: attach an authorization policy (app.MapTypedTasksDashboard(\"/tasks\").RequireAuthorization(\"ops\")) or open it explicitly (DashboardOptions.AllowRemoteRequests = true).",
            "text/plain; charset=utf-8",
            statusCode: StatusCodes.Status403Forbidden));
    }

    internal static bool IsLocal(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress;
        return remote is not null && (IPAddress.IsLoopback(remote) || (remote.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(remote.MapToIPv4())));
    }

    private bool HasPolicy(HttpContext http)
        => http.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => !ReferenceEquals(a, ownOperationsPolicy)) == true;
}
