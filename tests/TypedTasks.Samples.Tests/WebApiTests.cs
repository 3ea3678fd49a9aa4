using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MessagePack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TypedTasks.Testing;

namespace TypedTasks.Samples.Tests;

/// <summary>
/// The web API sample's main path, in the ASP.NET Core test host (in-memory broker) and as a real
/// process on a socket against a real Redis. One class: the sample uses the process-wide current
/// client, so these tests do not run beside each other.
/// </summary>
public sealed class WebApiTests
{
    private static async Task<JsonElement> PollUntilFinal(HttpClient http, string location, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var response = await http.GetAsync(location);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var state = body.GetProperty("state").GetString();
            if (state is "Succeeded" or "Failed" or "Canceled" or "Expired")
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Still {state} after {limit}.");
            await Task.Delay(20);
        }
    }

    private static async Task CheckMainPath(HttpClient http, TimeSpan limit)
    {
        var accepted = await http.PostAsync("/add?x=2&y=3", null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal($"/tasks/{id}", accepted.Headers.Location?.ToString());

        var done = await PollUntilFinal(http, $"/tasks/{id}", limit);
        Assert.Equal(id, done.GetProperty("id").GetString());
        Assert.Equal("Succeeded", done.GetProperty("state").GetString());
        Assert.Equal(5, done.GetProperty("result").GetInt32());
    }

    [Fact]
    public async Task In_the_test_host_an_add_is_accepted_then_succeeds_and_bad_input_gets_problem_details()
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var http = factory.CreateClient();
        await CheckMainPath(http, TimeSpan.FromSeconds(30));

        var unknown = await http.GetAsync("/tasks/never-enqueued");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);

        foreach (var query in new[] { "/add?x=abc&y=3", "/add?y=3", "/add?x=1.5&y=2" })
        {
            var bad = await http.PostAsync(query, null);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty("x", out _), query);
        }
    }

    [Fact]
    public async Task The_dashboard_is_mounted_at_dashboard_and_shows_the_task_an_add_ran()
    {
        // The test host gives requests no remote address; a browser on this machine comes from loopback.
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureServices(s =>
            s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new FromLoopback())));
        using var http = factory.CreateClient();
        var accepted = await http.PostAsync("/add?x=20&y=22", null);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await PollUntilFinal(http, $"/tasks/{id}", TimeSpan.FromSeconds(30));

        var overview = await http.GetStringAsync("/dashboard");
        Assert.Contains("<h1>Overview</h1>", overview, StringComparison.Ordinal);
        Assert.Contains("data-queue=\"default\"", overview, StringComparison.Ordinal);
        var task = await http.GetStringAsync("/dashboard/task?id=" + Uri.EscapeDataString(id));
        Assert.Contains("Succeeded", task, StringComparison.Ordinal);
        Assert.Contains("42", task, StringComparison.Ordinal);
    }

    private sealed class FromLoopback : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Loopback;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    [Fact]
    public async Task The_status_of_a_task_that_is_not_an_add_is_a_404_problem_not_a_500()
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var http = factory.CreateClient();

        // Another app's task on the same backend: it succeeded with a string, which the API's
        // typed handle (a long) cannot read. Before, the endpoint answered 500 with an empty body.
        // It is sent (as a version 2 envelope) to a queue no worker of this app serves, and run here by hand.
        var store = factory.Services.GetRequiredService<TaskClient>().Store;
        var envelope = MessagePackSerializer.Serialize(new object?[] { 2, "reports.build", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, null, null, Array.Empty<object>() });
        var id = await store.EnqueueAsync("other-app", new TypedTasks.Store.TaskToEnqueue(envelope, 0));
        var lease = Assert.Single(await store.FetchAsync(["other-app"], 1, CancellationToken.None));
        Assert.True(await store.CompleteAsync(lease, TypedTasks.Store.TaskCompletion.Succeeded(MessagePackSerializer.Serialize("a report"))));

        var response = await http.GetAsync($"/tasks/{Uri.EscapeDataString(id)}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("'reports.build'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/tasks/%20")]
    [InlineData("/tasks/%20%09")]
    public async Task The_status_of_a_blank_id_is_a_404_problem_not_a_500(string path)
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var http = factory.CreateClient();

        // Before, GetResult threw on the blank id and the endpoint answered 500.
        var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("blank", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_Redis_unreachable_an_add_is_a_503_problem()
    {
        var port = RedisServer.FreePort();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("TypedTasks:Redis", $"127.0.0.1:{port},abortConnect=false,connectTimeout=1000")
            .UseSetting("WebApi:Worker", "false"));
        using var http = factory.CreateClient();
        var response = await http.PostAsync("/add?x=2&y=3", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // The body says why and the header when to try again; the endpoint is not given away.
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"detail\":\"The task store cannot be reached for now: try again later.\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Over_a_real_socket_on_Redis_the_result_is_there_within_a_second()
    {
        await using var redis = await RedisServer.StartAsync();
        var port = RedisServer.FreePort();
        await using var api = ChildProcess.Start("WebApi", ["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string> { ["TypedTasks__Redis"] = redis.Endpoint });
        await api.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(60));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await CheckMainPath(http, TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/tasks/never-enqueued")).StatusCode);
    }
}
