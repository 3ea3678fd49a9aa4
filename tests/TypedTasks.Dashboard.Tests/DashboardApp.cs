using System;
using System.Net;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Linq;

namespace TypedTasks.Dashboard.Tests;

/// <summary>A web app that mounts the dashboard: in memory (TestServer) for server tests, on a loopback port for the browser.</summary>
internal sealed class DashboardApp : IAsyncDisposable
{
    /// <summary>A request header the in-memory app turns into the connection's remote address, to play a request from another machine.</summary>
    public const string RemoteHeader = "X-Test-Remote-Address";

    /// <summary>A request header the test authentication turns into a signed-in user with that role.</summary>
    public const string RoleHeader = "X-Test-Role";

    private DashboardApp(WebApplication app) => App = app;

    public WebApplication App { get; }

    public TaskClient Client => App.Services.GetRequiredService<TaskClient>();

    public TestServer Server => App.GetTestServer();

    /// <summary>The base address of a Kestrel app, as http://127.0.0.1:port.</summary>
    public string Address => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public static async Task<DashboardApp> StartAsync(
        Action<TypedTasksOptions> store,
        Func<IEndpointRouteBuilder, IEndpointConventionBuilder> mount,
        bool kestrel = false,
        bool worker = true,
        bool authentication = false)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        var typed = builder.Services.AddTypedTasks(store);
        if (worker)
        {
            typed.AddWorker(w => w.Queues = ["dash", "default"]);
        }

        builder.Services.AddTypedTasksDashboard();
        if (authentication)
        {
            builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
            builder.Services.AddAuthorization(o =>
            {
                o.AddPolicy("viewers", p => p.RequireRole("viewer", "operator"));
                o.AddPolicy("operators", p => p.RequireRole("operator"));
            });
        }

        var app = builder.Build();
        if (!kestrel)
        {
            app.Use((context, next) =>
            {
                context.Connection.RemoteIpAddress = context.Request.Headers.TryGetValue(RemoteHeader, out var remote) ? IPAddress.Parse(remote.ToString()) : IPAddress.Loopback;
                return next(context);
            });
        }

        if (authentication)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        mount(app);
        await app.StartAsync();
        return new DashboardApp(app);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
