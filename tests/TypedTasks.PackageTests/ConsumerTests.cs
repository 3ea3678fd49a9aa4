using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

using TypedTasks.Testing;

namespace TypedTasks.PackageTests;

/// <summary>
/// Builds tests/contract (an app and a task library written as a new user would) in a folder
/// outside the repository and runs it: once against the projects with the generator as an
/// Analyzer, once against the packed TypedTasks package from a local feed.
/// </summary>
public sealed class ConsumerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);
    private const int ContractChecks = 13;

    private static string CopyContract()
    {
        var root = DotnetCli.NewTempDirectory("typedtasks-consumer");
        foreach (var project in new[] { "App", "TaskLib" })
        {
            var target = Directory.CreateDirectory(Path.Combine(root, project)).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(DotnetCli.RepoRoot, "tests", "contract", project), "*.cs"))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }

        return root;
    }

    private static string Project(string body, bool exe) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            {(exe ? "<OutputType>Exe</OutputType>" : string.Empty)}
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
        {body}
          </ItemGroup>
        </Project>
        """;

    /// <summary>
    /// The contract's two projects: the task library with <paramref name="references"/>, and the
    /// app with them, <paramref name="appReferences"/>, the library and the hosting package.
    /// </summary>
    private static void WriteProjects(string root, string references, string appReferences = "")
    {
        File.WriteAllText(Path.Combine(root, "TaskLib", "TaskLib.csproj"), Project(references, exe: false));
        File.WriteAllText(Path.Combine(root, "App", "App.csproj"), Project(references + appReferences + """
                <ProjectReference Include="../TaskLib/TaskLib.csproj" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
            """, exe: true));
    }

    /// <summary>References to the repository's projects, the generator as an Analyzer.</summary>
    private static string ProjectReferences()
    {
        var src = Path.Combine(DotnetCli.RepoRoot, "src", "TypedTasks", "TypedTasks.csproj");
        var generator = Path.Combine(DotnetCli.RepoRoot, "generators", "TypedTasks.Generators", "TypedTasks.Generators.csproj");
        return $"""
                <ProjectReference Include="{src}" />
                <ProjectReference Include="{generator}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
            """;
    }

    private static async Task BuildAndRunAsync(string root, params string[] runArguments)
    {
        var (buildExit, buildOutput) = await DotnetCli.RunAsync(Path.Combine(root, "App"), Limit, "build", "-c", "Release");
        Assert.True(buildExit == 0, buildOutput);
        Assert.DoesNotContain("warning", buildOutput.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal)), StringComparer.Ordinal);

        var (runExit, runOutput) = await DotnetCli.RunAsync(Path.Combine(root, "App"), Limit, ["run", "-c", "Release", "--no-build", "--", .. runArguments]);
        Assert.True(runExit == 0, runOutput);
        Assert.Contains($"contract: {ContractChecks} passed, 0 failed", runOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_user_project_with_project_references_passes_every_contract_check()
    {
        var root = CopyContract();
        var references = ProjectReferences();
        WriteProjects(root, references);

        await BuildAndRunAsync(root);
    }

    [Fact]
    public async Task A_new_user_project_passes_every_contract_check_on_a_real_Redis()
    {
        var root = CopyContract();
        var redisProject = Path.Combine(DotnetCli.RepoRoot, "src", "TypedTasks.Redis", "TypedTasks.Redis.csproj");
        var references = ProjectReferences();
        WriteProjects(root, references, appReferences: $"""
                <ProjectReference Include="{redisProject}" />
            """);

        await using var redis = await RedisServer.StartAsync();
        await BuildAndRunAsync(root, "--redis", redis.Endpoint);
    }

    [Fact]
    public async Task The_packed_package_carries_the_generator_so_one_PackageReference_gives_proxies()
    {
        var root = CopyContract();
        var feed = Directory.CreateDirectory(Path.Combine(root, "feed")).FullName;

        // A version of its own, so that no package restored before can stand in for this one.
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var (packExit, packOutput) = await DotnetCli.RunAsync(DotnetCli.RepoRoot, Limit, "pack", "src/TypedTasks/TypedTasks.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
        Assert.True(packExit == 0, packOutput);
        var package = Assert.Single(Directory.GetFiles(feed, "TypedTasks.*.nupkg"));
        using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
        {
            Assert.Contains(zip.Entries, e => e.FullName == "analyzers/dotnet/cs/TypedTasks.Generators.dll");
            Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/TypedTasks.dll");
            Assert.Contains(zip.Entries, e => e.FullName == "buildTransitive/TypedTasks.props");
        }

        File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        var reference = $"""    <PackageReference Include="TypedTasks" Version="{version}" />""";
        WriteProjects(root, reference);

        await BuildAndRunAsync(root);
    }

    [Fact]
    public async Task The_cli_packs_as_the_dotnet_tool_typedtasks()
    {
        var feed = DotnetCli.NewTempDirectory("typedtasks-tool");
        var (exit, output) = await DotnetCli.RunAsync(DotnetCli.RepoRoot, Limit, "pack", "src/TypedTasks.Cli/TypedTasks.Cli.csproj", "-c", "Release", "-o", feed);
        Assert.True(exit == 0, output);
        var package = Assert.Single(Directory.GetFiles(feed, "TypedTasks.Cli.*.nupkg"));
        using var zip = System.IO.Compression.ZipFile.OpenRead(package);
        var settings = Assert.Single(zip.Entries, e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
        using var reader = new StreamReader(settings.Open());
        Assert.Contains("<Command Name=\"typedtasks\"", await reader.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("/TypedTasks.Cli.dll", StringComparison.Ordinal));
    }
}
