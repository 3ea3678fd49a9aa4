using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace TypedTasks.Dashboard.Pages;

/// <summary>A page: HTML, never cached, never framed, scripts and styles from the dashboard only.</summary>
internal sealed class HtmlResult(string html, int status) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        SecurityHeaders.Apply(response);
        return response.WriteAsync(html, httpContext.RequestAborted);
    }
}
