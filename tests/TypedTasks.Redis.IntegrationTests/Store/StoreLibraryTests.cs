using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using TypedTasks.Redis.Store;
using TypedTasks.Store;
using TypedTasks.Testing;
using static TypedTasks.Redis.IntegrationTests.Store.StoreTestKit;

namespace TypedTasks.Redis.IntegrationTests.Store;

/// <summary>
/// The scripts as one function library: loaded on first use and then called by FCALL; loaded
/// again when the server lost it; left aside (scripts by EVALSHA) for a user who may not load it.
/// </summary>
public sealed class StoreLibraryTests
{
    [Fact]
    public async Task Every_store_script_sent_by_EVAL_compiles_with_room_for_three_more_locals_in_its_main_chunk()
    {
        // Input: each store script as EVAL sends it (shared.lua, begin, the script: one main chunk,
        // which Lua allows at most 200 locals) with three more top-level locals in front, loaded by
        // SCRIPT LOAD. Expected: each compiles. A script one shared local short of the limit fails
        // every call by EVAL (no functions on the server, a user without FUNCTION, the first calls
        // before the library is loaded) as soon as shared.lua gets another one.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        var admin = connection.GetServer(server.Endpoint);
        var scripts = typeof(StoreScript).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(p => p.PropertyType == typeof(RedisScript)).Select(p => (RedisScript)p.GetValue(null)!)
            .Where(s => s.Source.StartsWith("local EVAL_KEYS", StringComparison.Ordinal)).ToList();
        Assert.True(scripts.Count >= 20, $"only {scripts.Count} store scripts found");
        foreach (var script in scripts)
        {
            var first = script.Source.IndexOf('\n', StringComparison.Ordinal) + 1;
            var text = script.Source[..first] + "local room1, room2, room3\n" + script.Source[first..];
            var loaded = await Record.ExceptionAsync(() => admin.ScriptLoadAsync(text));
            Assert.True(loaded is null, $"{script.Name}: {loaded?.Message}");
        }
    }

    [Fact]
    public async Task Calls_go_by_FCALL_once_the_library_is_loaded_and_again_after_FUNCTION_FLUSH()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "fl" });
        var admin = connection.GetServer(server.Endpoint);

        // Input: counts until the library is there. The first call goes by EVAL while it loads.
        await Poll.UntilAsync(async () => (await store.CountAsync("q")).Pending == 0 && await CallsAsync(admin, "fcall") > 0, "a count goes by FCALL", TimeSpan.FromSeconds(20));
        Assert.Contains(StoreScript.Library.Name, await LibrariesAsync(admin));

        // Input: FUNCTION FLUSH, then a task through enqueue, fetch and complete. Each call answers
        // (the first one as a script), and the library is loaded again.
        await admin.ExecuteAsync("FUNCTION", "FLUSH");
        var id = await store.EnqueueAsync("q", New(Small(5)));
        var lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
        Assert.Equal(id, lease.Id);
        Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 7 })));
        Assert.Equal(TaskState.Succeeded, (await store.GetAsync(id))!.State);
        await Poll.UntilAsync(async () => (await LibrariesAsync(admin)).Contains(StoreScript.Library.Name), "the library is loaded again", TimeSpan.FromSeconds(20));
        await admin.ExecuteAsync("CONFIG", "RESETSTAT");
        Assert.Equal(TaskState.Succeeded, (await store.GetAsync(id))!.State);
        Assert.Equal(1, await CallsAsync(admin, "fcall"));
    }

    [Fact]
    public async Task A_user_who_may_not_load_functions_runs_the_same_scripts_by_EVALSHA()
    {
        await using var server = await RedisServer.StartAsync();
        await using (var setup = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true"))
        {
            await setup.GetServer(server.Endpoint).ExecuteAsync("ACL", "SETUSER", "plain", "on", ">plain-secret", "~*", "&*", "+@all", "-function");
        }

        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",user=plain,password=plain-secret");
        await using var store = new RedisTaskStore(connection, new RedisTransportOptions { KeyPrefix = "pl" });

        // Input: a task through enqueue, fetch and complete, twice (the second time after the
        // load was refused). Every call answers; none goes by FCALL.
        for (var i = 0; i < 2; i++)
        {
            var id = await store.EnqueueAsync("q", New(Small(i)));
            var lease = Assert.Single(await store.FetchAsync(["q"], 1, CancellationToken.None));
            Assert.True(await store.CompleteAsync(lease, TaskCompletion.Succeeded(new byte[] { 7 })));
            Assert.Equal(TaskState.Succeeded, (await store.GetAsync(id))!.State);
            await Task.Delay(100);
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        var stats = admin.GetServer(server.Endpoint);
        Assert.Equal(0, await CallsAsync(stats, "fcall"));
        Assert.True(await CallsAsync(stats, "evalsha") > 0, "the calls after the first went by EVALSHA");
        Assert.DoesNotContain(StoreScript.Library.Name, await LibrariesAsync(stats));
    }

    private static async Task<string[]> LibrariesAsync(IServer server)
    {
        var libraries = (RedisResult[])(await server.ExecuteAsync("FUNCTION", "LIST"))!;
        return [.. libraries.Select(l => (string)((RedisResult[])l!)[1]!)];
    }
}
