using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace TypedTasks.PackageTests;

/// <summary>Project files of programs written as a user would, built outside the repository.</summary>
internal static class ConsumerProject
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>A console project's settings (<c>dotnet new console</c>), warnings as errors.</summary>
    public static string Project(string body, bool exe) => $"""
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

    /// <summary>References to the repository's TypedTasks project, the generator as an Analyzer.</summary>
    public static string ProjectReferences()
    {
        var src = Path.Combine(DotnetCli.RepoRoot, "src", "TypedTasks", "TypedTasks.csproj");
        var generator = Path.Combine(DotnetCli.RepoRoot, "generators", "TypedTasks.Generators", "TypedTasks.Generators.csproj");
        return $"""
                <ProjectReference Include="{src}" />
                <ProjectReference Include="{generator}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
            """;
    }

    /// <summary>A reference to the repository's TypedTasks.Redis project.</summary>
    public static string RedisProjectReference() => $"""
                <ProjectReference Include="{Path.Combine(DotnetCli.RepoRoot, "src", "TypedTasks.Redis", "TypedTasks.Redis.csproj")}" />
            """;

    /// <summary>A reference to the repository's TypedTasks.Celery project.</summary>
    public static string CeleryProjectReference() => $"""
                <ProjectReference Include="{Path.Combine(DotnetCli.RepoRoot, "src", "TypedTasks.Celery", "TypedTasks.Celery.csproj")}" />
            """;

    /// <summary>The generic host, at the version the docs and templates name.</summary>
    public const string HostingReference = """
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
        """;

    /// <summary>Builds in Release and fails the test on an error or a warning.</summary>
    public static async Task BuildAsync(string directory)
    {
        var (exit, output) = await DotnetCli.RunAsync(directory, Limit, "build", "-c", "Release");
        Assert.True(exit == 0, output);
        Assert.DoesNotContain(output.Split('\n'), l => l.Contains(": warning ", StringComparison.Ordinal));
    }
}
