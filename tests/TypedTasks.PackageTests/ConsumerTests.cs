using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

using TypedTasks.Testing;

namespace TypedTasks.PackageTests;

/// <summary>
/// Builds tests/contract (an app and a task library written as a new user would) in a folder
/// outside the repository and runs it against the projects, the generator as an Analyzer (on the
/// in-memory broker and on a real Redis). <see cref="PackedPackageTests"/> runs it from the packages.
/// </summary>
public sealed class ConsumerTests
{
    private const int ContractChecks = 13;

    /// <summary>Copies the contract's sources into a new folder, under <paramref name="parent"/> when given.</summary>
    internal static string CopyContract(string? parent = null)
    {
        var root = parent is null ? DotnetCli.NewTempDirectory("typedtasks-consumer") : Directory.CreateDirectory(Path.Combine(parent, "contract")).FullName;
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

    /// <summary>
    /// The contract's two projects: the task library with <paramref name="references"/>, and the
    /// app with them, <paramref name="appReferences"/>, the library and the hosting package.
    /// </summary>
    internal static void WriteProjects(string root, string references, string appReferences = "")
    {
        File.WriteAllText(Path.Combine(root, "TaskLib", "TaskLib.csproj"), ConsumerProject.Project(references, exe: false));
        File.WriteAllText(Path.Combine(root, "App", "App.csproj"), ConsumerProject.Project(references + appReferences + ConsumerProject.HostingReference + """
                <ProjectReference Include="../TaskLib/TaskLib.csproj" />
            """, exe: true));
    }

    /// <summary>Builds the contract's app and runs it: every check passes.</summary>
    internal static async Task BuildAndRunAsync(string root, params string[] runArguments)
    {
        await ConsumerProject.BuildAsync(Path.Combine(root, "App"));

        var (runExit, runOutput) = await DotnetCli.RunAsync(Path.Combine(root, "App"), ConsumerProject.Limit, ["run", "-c", "Release", "--no-build", "--", .. runArguments]);
        Assert.True(runExit == 0, runOutput);
        Assert.Contains($"contract: {ContractChecks} passed, 0 failed", runOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_user_project_with_project_references_passes_every_contract_check()
    {
        var root = CopyContract();
        WriteProjects(root, ConsumerProject.ProjectReferences());

        await BuildAndRunAsync(root);
    }

    [Fact]
    public async Task A_new_user_project_passes_every_contract_check_on_a_real_Redis()
    {
        var root = CopyContract();
        WriteProjects(root, ConsumerProject.ProjectReferences(), appReferences: ConsumerProject.RedisProjectReference());

        await using var redis = await RedisServer.StartAsync();
        await BuildAndRunAsync(root, "--redis", redis.Endpoint);
    }
}
