using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

using TypedTasks.Testing;

namespace TypedTasks.PackageTests;

/// <summary>
/// The getting-started route from packages, end to end: scripts/pack.sh in a fresh copy of the
/// repository, the page's nuget.config, the two templates from a private template hive, and the
/// project by hand exactly as the page shows it, each built and run on the in-memory broker.
/// </summary>
[Collection(PackedPackagesCollection.Name)]
public sealed partial class PackedPackageTests(PackedPackages packed)
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(2);

    [Fact]
    public void Pack_sh_puts_every_package_in_one_folder_and_prints_how_to_add_it()
    {
        Assert.Contains($"dotnet nuget add source \"{packed.Feed}\" --name typedtasks-local", packed.PackOutput, StringComparison.Ordinal);

        using (var runtime = ZipFile.OpenRead(packed.Package("TypedTasks")))
        {
            Assert.Contains(runtime.Entries, e => e.FullName == "analyzers/dotnet/cs/TypedTasks.Generators.dll");
            Assert.Contains(runtime.Entries, e => e.FullName == "lib/net10.0/TypedTasks.dll");
            Assert.Contains(runtime.Entries, e => e.FullName == "buildTransitive/TypedTasks.props");
        }

        using (var redis = ZipFile.OpenRead(packed.Package("TypedTasks.Redis")))
        {
            Assert.Contains(redis.Entries, e => e.FullName == "lib/net10.0/TypedTasks.Redis.dll");
        }

        using (var celery = ZipFile.OpenRead(packed.Package("TypedTasks.Celery")))
        {
            Assert.Contains(celery.Entries, e => e.FullName == "lib/net10.0/TypedTasks.Celery.dll");
        }

        using (var dashboard = ZipFile.OpenRead(packed.Package("TypedTasks.Dashboard")))
        {
            // Its stylesheet and script are inside the assembly: nothing is fetched from a CDN.
            Assert.Contains(dashboard.Entries, e => e.FullName == "lib/net10.0/TypedTasks.Dashboard.dll");
            Assert.DoesNotContain(dashboard.Entries, e => e.FullName.EndsWith(".js", StringComparison.Ordinal) || e.FullName.EndsWith(".css", StringComparison.Ordinal));
        }

        using (var templates = ZipFile.OpenRead(packed.Package("TypedTasks.Templates")))
        {
            foreach (var (folder, project) in new[] { ("worker", "TypedTasksWorker"), ("webapi", "TypedTasksWebApi") })
            {
                Assert.Contains(templates.Entries, e => e.FullName == $"content/{folder}/.template.config/template.json");
                var csproj = Assert.Single(templates.Entries, e => e.FullName == $"content/{folder}/{project}.csproj");
                using var reader = new StreamReader(csproj.Open());
                Assert.Contains($"<PackageReference Include=\"TypedTasks\" Version=\"{packed.Version}\" />", reader.ReadToEnd(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task The_cli_packs_as_the_dotnet_tool_typedtasks()
    {
        using var zip = ZipFile.OpenRead(packed.Package("TypedTasks.Cli"));
        var settings = Assert.Single(zip.Entries, e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
        using var reader = new StreamReader(settings.Open());
        Assert.Contains("<Command Name=\"typedtasks\"", await reader.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("/TypedTasks.Cli.dll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_packed_package_carries_the_generator_so_one_PackageReference_gives_proxies()
    {
        var root = ConsumerTests.CopyContract(packed.Work);
        ConsumerTests.WriteProjects(root, $"""    <PackageReference Include="TypedTasks" Version="{packed.Version}" />""");

        await ConsumerTests.BuildAndRunAsync(root);
    }

    [Fact]
    public async Task The_worker_template_builds_and_runs_a_task_on_the_in_memory_broker()
    {
        var project = await NewFromTemplateAsync("typedtasks-worker", "Orders.Worker");
        await ConsumerProject.BuildAsync(project);

        await using var worker = ChildProcess.StartProgram(Program(project, "Orders.Worker"), project, []);
        await worker.WaitForOutputAsync("completed: Hello, run 1!", RunLimit);

        worker.Terminate();
        Assert.True(await worker.WaitForExitAsync(RunLimit), worker.Output);
        Assert.True(worker.ExitCode == 0, worker.Output);

        // With Redis down the producer says so in a line each time and keeps trying; the host runs on.
        await using var down = ChildProcess.StartProgram(Program(project, "Orders.Worker"), project, [], RedisDown());
        await Poll.UntilAsync(() => Task.FromResult(Regex.Count(down.Output, "Task not sent: ") >= 2), "the producer failed to send twice and goes on", RunLimit);
        Assert.False(down.HasExited, down.Output);
        Assert.DoesNotContain("   at ", down.Output, StringComparison.Ordinal);
        down.Terminate();
        Assert.True(await down.WaitForExitAsync(RunLimit), down.Output);
        Assert.True(down.ExitCode == 0, down.Output);
    }

    [Fact]
    public async Task The_webapi_template_builds_enqueues_and_reports_status()
    {
        var project = await NewFromTemplateAsync("typedtasks-webapi", "Orders.Api");
        await ConsumerProject.BuildAsync(project);

        await using var api = ChildProcess.StartProgram(Program(project, "Orders.Api"), project, ["--urls", "http://127.0.0.1:0"]);
        await api.WaitForOutputAsync("Now listening on: ", RunLimit);
        using var http = new HttpClient { BaseAddress = new Uri(ListeningOn().Match(api.Output).Groups[1].Value) };

        using var accepted = await http.PostAsync(new Uri("/reports?title=q3", UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var status = accepted.Headers.Location!;
        var body = string.Empty;
        await Poll.UntilAsync(async () => (body = await http.GetStringAsync(status)).Contains("\"Succeeded\"", StringComparison.Ordinal), $"the report is built ({status})", RunLimit);
        Assert.Contains("\"report\":{\"title\":\"q3\"", body, StringComparison.Ordinal);

        using var unknown = await http.GetAsync(new Uri("/reports/no-such-id", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var blank = await http.GetAsync(new Uri("/reports/%20", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, blank.StatusCode);
        Assert.Equal("application/problem+json", blank.Content.Headers.ContentType?.MediaType);
        using var invalid = await http.PostAsync(new Uri("/reports", UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);

        // With Redis down a request is told so (503, problem details), not an empty 500.
        await using var down = ChildProcess.StartProgram(Program(project, "Orders.Api"), project, ["--urls", "http://127.0.0.1:0"], RedisDown());
        await down.WaitForOutputAsync("Now listening on: ", RunLimit);
        using var downHttp = new HttpClient { BaseAddress = new Uri(ListeningOn().Match(down.Output).Groups[1].Value), Timeout = RunLimit };
        using var refused = await downHttp.PostAsync(new Uri("/reports?title=q3", UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("The task store cannot be reached for now: try again later.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task The_project_by_hand_of_getting_started_builds_and_runs_from_the_packages()
    {
        var project = Path.Combine(packed.Work, "by-hand", "Shop");
        await DotnetNewAsync("console", "Shop", project, "--no-restore");

        // The page's package references, and its complete blocks as the project's files.
        var csproj = Path.Combine(project, "Shop.csproj");
        var references = GettingStarted.PackageReferences(packed.Version);
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("</Project>", references + "</Project>", StringComparison.Ordinal));
        foreach (var block in GettingStarted.Blocks("Shop"))
        {
            File.WriteAllText(Path.Combine(project, block.FileName), block.Code);
        }

        await ConsumerProject.BuildAsync(project);
        var (exit, output) = await DotnetCli.RunAsync(project, RunLimit, Program(project, "Shop"));
        Assert.True(exit == 0, output);
        Assert.Matches(ConfirmedLine(), output);
    }

    /// <summary>The templates' Redis setting, naming a port where nothing listens.</summary>
    private static Dictionary<string, string> RedisDown() => new() { ["TypedTasks__Redis"] = $"127.0.0.1:{RedisServer.FreePort()},connectTimeout=1000" };

    private static string Program(string project, string name) => Path.Combine(project, "bin", "Release", "net10.0", name + ".dll");

    private async Task<string> NewFromTemplateAsync(string template, string name)
    {
        var project = Path.Combine(packed.Work, "templates", name);
        await DotnetNewAsync(template, name, project);
        return project;
    }

    private async Task DotnetNewAsync(string template, string name, string output, params string[] options)
    {
        var (exit, text) = await DotnetCli.RunAsync(packed.Work, RunLimit, ["new", template, "-n", name, "-o", output, "--debug:custom-hive", packed.TemplateHive, .. options]);
        Assert.True(exit == 0, text);
    }

    /// <summary>What the page's program prints: the task's result.</summary>
    [GeneratedRegex(@"(?m)^confirmed [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex ConfirmedLine();

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
