using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedTasks.TestWorker;

using TypedTasks.Testing;

namespace TypedTasks.Redis.IntegrationTests;

/// <summary>The ways to reach Redis: configuration alone, password, ACL user, database number, key prefix, TLS.</summary>
public sealed class ConnectionTests
{
    private static async Task<IHost> StartAsync(Action<IServiceCollection> addTypedTasks, Dictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        addTypedTasks(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<int> AddThroughAsync(IHost host)
    {
        var client = host.Services.GetRequiredService<TaskClient>();
        return await (await Tasks.Add.WithClient(client).EnqueueAsync(19, 23)).GetAsync(RedisHost.Wait);
    }

    [Theory]
    [InlineData("a{b}")]
    [InlineData(" ")]
    public async Task A_key_prefix_that_cannot_be_one_stops_the_host_naming_its_setting(string prefix)
    {
        // Input: TypedTasks:RedisTransport:KeyPrefix set to a value with braces, or blank. Expected:
        // the host does not start, and the message names the setting, as every other setting's does.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(s => s.AddTypedTasks().AddWorker(), new()
        {
            ["TypedTasks:Redis"] = "127.0.0.1:1",
            ["TypedTasks:RedisTransport:KeyPrefix"] = prefix,
        }));
        Assert.Contains($"TypedTasks:RedisTransport:KeyPrefix (RedisTransportOptions.KeyPrefix): '{prefix}' is not a valid key prefix", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_alone_selects_Redis_with_the_transport_settings()
    {
        await using var redis = await RedisServer.StartAsync();
        var prefix = RedisHost.NewPrefix();
        using var host = await StartAsync(s => s.AddTypedTasks().AddWorker(), new()
        {
            ["TypedTasks:Redis"] = redis.Endpoint,
            ["TypedTasks:RedisTransport:KeyPrefix"] = prefix,
        });

        Assert.IsType<global::TypedTasks.Redis.Store.RedisTaskStore>(host.Services.GetRequiredService<TaskClient>().Store);
        Assert.Equal(42, await AddThroughAsync(host));
        await using var connection = await redis.ConnectAsync();
        Assert.NotEmpty(connection.GetServer(redis.Endpoint).Keys(pattern: prefix + ":{default}:*"));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_password_an_ACL_user_a_database_number_and_a_key_prefix_all_work()
    {
        await using var redis = await RedisServer.StartAsync(
            false, (port, _) => ConfigurationOptions.Parse($"127.0.0.1:{port},password=admin-secret"),
            "--requirepass", "admin-secret");
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},password=admin-secret,allowAdmin=true"))
        {
            await admin.GetServer(redis.Endpoint).ExecuteAsync("ACL", "SETUSER", "tasks", "on", ">tasks-secret", "~jobs:*", "&*", "+@all");
        }

        // The password alone (the default user), in database 3.
        using (var host = await StartAsync(s => s.AddTypedTasks(o => o.UseRedis($"{redis.Endpoint},password=admin-secret,defaultDatabase=3", r => r.KeyPrefix = "jobs")).AddWorker()))
        {
            Assert.Equal(42, await AddThroughAsync(host));
            await host.StopAsync();
        }

        // An ACL user allowed only the keys under jobs:*.
        using (var host = await StartAsync(s => s.AddTypedTasks(o => o.UseRedis($"{redis.Endpoint},user=tasks,password=tasks-secret", r => r.KeyPrefix = "jobs")).AddWorker()))
        {
            Assert.Equal(42, await AddThroughAsync(host));
            await host.StopAsync();
        }

        await using var check = await ConnectionMultiplexer.ConnectAsync($"{redis.Endpoint},password=admin-secret");
        var server = check.GetServer(redis.Endpoint);
        Assert.NotEmpty(server.Keys(database: 3, pattern: "jobs:{default}:*"));
        Assert.NotEmpty(server.Keys(database: 0, pattern: "jobs:{default}:*"));
        Assert.Empty(server.Keys(database: 0, pattern: "tt:*"));

        // A wrong password is an error at start, not a silent hang.
        using var wrong = await StartAsync(s => s.AddTypedTasks(o => o.UseRedis($"{redis.Endpoint},user=tasks,password=nope,connectTimeout=1000")));
        var client = wrong.Services.GetRequiredService<TaskClient>();
        await Assert.ThrowsAsync<Transport.TransportException>(() => Tasks.Add.WithClient(client).EnqueueAsync(1, 1));
        await wrong.StopAsync();
    }

    [Fact]
    public async Task TLS_works_with_the_servers_own_certificate_authority()
    {
        var certs = Path.Combine(Path.GetTempPath(), "typedtasks-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(certs);
        await OpenSsl(certs, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=typedtasks-test-ca");
        await OpenSsl(certs, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
        await File.WriteAllTextAsync(Path.Combine(certs, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
        await OpenSsl(certs, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.cnf");

        ConfigurationOptions Tls(int port)
        {
            var options = ConfigurationOptions.Parse($"127.0.0.1:{port},ssl=true,sslHost=127.0.0.1");
            options.TrustIssuer(Path.Combine(certs, "ca.crt"));
            return options;
        }

        await using var redis = await RedisServer.StartAsync(
            false, (port, _) => Tls(port),
            "--port", "0", "--tls-port", "{port}",
            "--tls-cert-file", Path.Combine(certs, "server.crt"), "--tls-key-file", Path.Combine(certs, "server.key"),
            "--tls-ca-cert-file", Path.Combine(certs, "ca.crt"), "--tls-auth-clients", "no");

        using var host = await StartAsync(s => s.AddTypedTasks(o => o.UseRedis(Tls(redis.Port), r => r.KeyPrefix = RedisHost.NewPrefix())).AddWorker());
        Assert.Equal(42, await AddThroughAsync(host));
        await host.StopAsync();
        Directory.Delete(certs, recursive: true);
    }

    private static async Task OpenSsl(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)} failed: {error}");
    }
}
