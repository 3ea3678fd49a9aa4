using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// One test per diagnostic: the bad declaration, the id, and the exact text it points at. The
/// marker <c>[|...|]</c> in a source is where the diagnostic must be.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedTasks;

        """;

    /// <summary>Asserts that the source yields exactly one diagnostic, <paramref name="id"/>, at the marked span, and no other error.</summary>
    private static Diagnostic Expect(string id, string markedSource)
    {
        var start = markedSource.IndexOf("[|", System.StringComparison.Ordinal);
        var end = markedSource.IndexOf("|]", System.StringComparison.Ordinal) - 2;
        Assert.True(start >= 0 && end >= start, "The source needs a [| |] marker.");
        var source = Usings + markedSource.Replace("[|", string.Empty).Replace("|]", string.Empty);
        var expectedSpan = source.Substring(Usings.Length + start, end - start);

        var diagnostics = GeneratorHarness.AllDiagnostics(source);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(expectedSpan, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Contains("docs/diagnostics.md#" + id.ToLowerInvariant(), diagnostic.Descriptor.HelpLinkUri, System.StringComparison.Ordinal);
        return diagnostic;
    }

    [Fact]
    public void TT0001_generic_method()
        => Expect("TT0001", "public static class J { [Task] public static T [|Echo|]<T>(T value) => value; }");

    [Fact]
    public void TT0002_ref_out_in_parameters()
    {
        var d = Expect("TT0002", "public static class J { [Task] public static void Fill(out int [|count|]) => count = 1; }");
        Assert.Contains("(out)", d.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0002", "public static class J { [Task] public static int Read(in int [|value|]) => value; }");
        Expect("TT0002", "public static class J { [Task] public static void Bump(ref int [|value|]) => value++; }");
    }

    [Fact]
    public void TT0003_span_and_pointer_parameters()
    {
        Expect("TT0003", "public static class J { [Task] public static int Length(ReadOnlySpan<byte> [|data|]) => data.Length; }");
        Expect("TT0003", "public static unsafe class J { [Task] public static int Peek(int* [|p|]) => 0; }");
    }

    [Fact]
    public void TT0004_async_void()
        => Expect("TT0004", "public static class J { [Task] public static async void [|Fire|]() => await Task.Yield(); }");

    [Fact]
    public void TT0005_types_MessagePack_cannot_carry()
    {
        Expect("TT0005", "public static class J { [Task] public static void Run(Action [|callback|]) { } }");
        Expect("TT0005", "public static class J { [Task] public static void Save(Stream [|body|]) { } }");
        Expect("TT0005", "public static class J { [Task] public static void Use(IntPtr [|handle|]) { } }");
        Expect("TT0005", "public static class J { [Task] public static void Any(object [|value|]) { } }");
        Expect("TT0005", "public static class J { [Task] public static void Any(dynamic [|value|]) { } }");
        var nested = Expect("TT0005", "public sealed record Upload(string Name, Stream Body); public static class J { [Task] public static void Store(Upload [|upload|]) { } }");
        Assert.Contains("Upload.Body", nested.GetMessage(), System.StringComparison.Ordinal);
        var hidden = Expect("TT0005", "internal sealed record Point(int X, int Y); public static class J { [Task] internal static void Move(Point [|to|]) { } }");
        Assert.Contains("make it public", hidden.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0005", "[MessagePack.MessagePackObject] public sealed class Keyed { [MessagePack.Key(0)] public int A { get; set; } public int B { get; set; } } public static class J { [Task] public static void Run(Keyed [|value|]) { } }");
    }

    [Fact]
    public void TT0022_a_second_progress_parameter()
    {
        // Both reporters would write the run's one progress value, as two types; the proxy's Progress reads one.
        var second = Expect("TT0022", "public static class J { [Task] public static void Run(int n, IProgress<int> done, IProgress<string> [|stage|]) { } }");
        Assert.Contains("'stage'", second.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0023_UniqueBy_names_no_carried_argument()
    {
        var unknown = Expect("TT0023", """public static class J { [Task([|UniqueBy = new[] { "orderld" }|], UniqueFor = "00:10:00")] public static void Ship(int orderId) { } }""");
        Assert.Contains("'orderld', which is not a parameter", unknown.GetMessage(), System.StringComparison.Ordinal);
        var supplied = Expect("TT0023", """public static class J { [Task(UniqueFor = "00:10:00", [|UniqueBy = new[] { "token" }|])] public static void Ship(int orderId, CancellationToken token) { } }""");
        Assert.Contains("the worker supplies", supplied.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0024_UniqueBy_without_UniqueFor()
    {
        Expect("TT0024", "public static class J { [Task([|UniqueBy = new[] { nameof(orderId) }|])] public static void Ship(int orderId) { } }");

        // A UniqueFor that is there but not a time is TT0010 alone, not also TT0024.
        var time = Expect("TT0010", "public static class J { [Task([|UniqueFor = \"ten minutes\"|], UniqueBy = new[] { nameof(orderId) })] public static void Ship(int orderId) { } }");
        Assert.Contains("UniqueFor", time.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0025_a_unique_argument_without_a_stable_encoding()
    {
        var named = Expect("TT0025", "public static class J { [Task(UniqueFor = \"00:10:00\", [|UniqueBy = new[] { nameof(tags) }|])] public static void Tag(int orderId, Dictionary<string, int> tags) { } }");
        Assert.Contains("'tags'", named.GetMessage(), System.StringComparison.Ordinal);

        // Without UniqueBy every carried argument is part of the key.
        Expect("TT0025", "public static class J { [Task([|UniqueFor = \"00:10:00\"|])] public static void Tag(int orderId, List<string> tags) { } }");
    }

    [Fact]
    public void Unique_tasks_by_stable_arguments_compile_without_diagnostics()
    {
        var source = Usings + """
            public enum Kind { A, B }
            public static class J
            {
                [Task(UniqueFor = "00:10:00", UniqueBy = new[] { nameof(orderId), nameof(kind), nameof(at), nameof(ids) })]
                public static void Ship(int orderId, Kind kind, DateTimeOffset at, Guid[] ids, Dictionary<string, int> notKeyed, CancellationToken token) { }

                [Task(UniqueFor = "00:01:00")]
                public static void Mark(string name, decimal amount, long? count, DateTime day) { }
            }
            """;
        Assert.Empty(GeneratorHarness.AllDiagnostics(source));
    }

    [Fact]
    public void TT0026_RateLimit_not_a_count_per_second_minute_or_hour()
    {
        var per = Expect("TT0026", """public static class J { [Task([|RateLimit = "100/d"|])] public static void Send(int n) { } }""");
        Assert.Contains("is \"100/d\"", per.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0026", """public static class J { [Task([|RateLimit = "0/s"|])] public static void Send(int n) { } }""");
        Expect("TT0026", """public static class J { [Task([|RateLimit = "1000001/h"|])] public static void Send(int n) { } }""");
        Expect("TT0026", """public static class J { [Task([|RateLimit = "1.5/s"|])] public static void Send(int n) { } }""");
        Expect("TT0026", """public static class J { [Task([|RateLimit = " 10/s"|])] public static void Send(int n) { } }""");
        Expect("TT0026", """public static class J { [Task([|RateLimit = "-1/m"|])] public static void Send(int n) { } }""");
        Expect("TT0026", """public static class J { [Task([|RateLimit = "10 per second"|])] public static void Send(int n) { } }""");

        // A RateLimitKey with a RateLimit that is there but not valid is TT0026 alone, not also TT0028.
        Expect("TT0026", """public static class J { [Task([|RateLimit = "ten/s"|], RateLimitKey = nameof(n))] public static void Send(int n) { } }""");
    }

    [Fact]
    public void TT0027_a_limit_key_names_no_carried_argument()
    {
        var unknown = Expect("TT0027", """public static class J { [Task(RateLimit = "10/s", [|RateLimitKey = "tenantld"|])] public static void Send(string tenantId) { } }""");
        Assert.Contains("RateLimitKey of task 'J.Send' names 'tenantld', which is not a parameter", unknown.GetMessage(), System.StringComparison.Ordinal);
        var supplied = Expect("TT0027", """public static class J { [Task(MaxConcurrency = 2, [|ConcurrencyKey = "context"|])] public static void Send(string tenantId, TaskContext context) { } }""");
        Assert.Contains("ConcurrencyKey of task 'J.Send' names 'context', which the worker supplies", supplied.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0027", """public static class J { [Task(MaxConcurrency = 2, [|ConcurrencyKey = "progress"|])] public static void Send(string tenantId, IProgress<int> progress) { } }""");
        Expect("TT0027", """public static class J { [Task(RateLimit = "5/m", [|RateLimitKey = "token"|])] public static void Send(string tenantId, CancellationToken token) { } }""");
    }

    [Fact]
    public void TT0028_a_limit_key_without_its_limit()
    {
        var rate = Expect("TT0028", """public static class J { [Task([|RateLimitKey = nameof(tenant)|])] public static void Send(string tenant) { } }""");
        Assert.Contains("has RateLimitKey but no RateLimit", rate.GetMessage(), System.StringComparison.Ordinal);
        var concurrency = Expect("TT0028", """public static class J { [Task([|ConcurrencyKey = nameof(tenant)|])] public static void Send(string tenant) { } }""");
        Assert.Contains("has ConcurrencyKey but no MaxConcurrency", concurrency.GetMessage(), System.StringComparison.Ordinal);

        // MaxConcurrency = 0 is no limit; the other kind of limit does not count.
        Expect("TT0028", """public static class J { [Task(MaxConcurrency = 0, RateLimit = "1/s", [|ConcurrencyKey = nameof(tenant)|])] public static void Send(string tenant) { } }""");
        Expect("TT0028", """public static class J { [Task(MaxConcurrency = 3, [|RateLimitKey = nameof(tenant)|])] public static void Send(string tenant) { } }""");
    }

    [Fact]
    public void TT0029_MaxConcurrency_below_0()
    {
        var d = Expect("TT0029", "public static class J { [Task([|MaxConcurrency = -1|])] public static void Send(int n) { } }");
        Assert.Contains("is -1", d.GetMessage(), System.StringComparison.Ordinal);

        // With a ConcurrencyKey it is TT0029 alone, not also TT0028.
        Expect("TT0029", "public static class J { [Task([|MaxConcurrency = -4|], ConcurrencyKey = nameof(n))] public static void Send(int n) { } }");
    }

    [Fact]
    public void TT0030_a_limit_key_without_a_stable_encoding()
    {
        var d = Expect("TT0030", "public static class J { [Task(MaxConcurrency = 1, [|ConcurrencyKey = nameof(tags)|])] public static void Tag(int orderId, Dictionary<string, int> tags) { } }");
        Assert.Contains("'tags' of type 'System.Collections.Generic.Dictionary<string, int>'", d.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0030", "public sealed record Tenant(string Id); public static class J { [Task(RateLimit = \"3/h\", [|RateLimitKey = nameof(tenant)|])] public static void Send(Tenant tenant) { } }");
    }

    [Fact]
    public void Limited_tasks_with_stable_keys_compile_without_diagnostics()
    {
        var source = Usings + """
            public enum Region { Eu, Us }
            public static class J
            {
                [Task(RateLimit = "1000000/h", RateLimitKey = nameof(region), MaxConcurrency = 4, ConcurrencyKey = nameof(tenant))]
                public static void Send(TaskContext context, string tenant, Dictionary<string, int> notKeyed, Region region, CancellationToken token) { }

                [Task(RateLimit = "1/s", MaxConcurrency = 1, ConcurrencyKey = nameof(ids))]
                public static void Mark(Guid[] ids, long? count) { }

                [Task(MaxConcurrency = 0)]
                public static void Free(int n) { }
            }
            """;
        Assert.Empty(GeneratorHarness.AllDiagnostics(source));
    }

    [Fact]
    public void TT0005_for_a_progress_type_MessagePack_cannot_carry()
    {
        // The reporter is the worker's; what it reports travels to readers in other processes.
        var progress = Expect("TT0005", "public static class J { [Task] public static void Run(int n, IProgress<Stream> [|progress|]) { } }");
        Assert.Contains("progress type", progress.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0005_is_not_reported_for_interfaces_with_a_union()
    {
        var source = Usings + """
            [MessagePack.Union(0, typeof(Circle))]
            public interface IShape { }
            [MessagePack.MessagePackObject] public sealed class Circle : IShape { [MessagePack.Key(0)] public double R { get; set; } }
            public static class J { [Task] public static void Draw(IShape shape) { } }
            """;
        Assert.Empty(GeneratorHarness.AllDiagnostics(source));
    }

    [Fact]
    public void TT0006_result_types_MessagePack_cannot_carry()
    {
        Expect("TT0006", "public static class J { [Task] public static [|Stream|] Open() => Stream.Null; }");
        Expect("TT0006", "public static class J { [Task] public static [|Task<Func<int>>|] Make() => Task.FromResult<Func<int>>(() => 1); }");
    }

    [Fact]
    public void TT0007_duplicate_task_names()
    {
        var d = Expect("TT0007", """
            public static class A { [Task("send")] public static void One() { } }
            public static class B { [Task("send")] public static void [|Two|]() { } }
            """);
        Assert.Contains("'send'", d.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0008_proxy_name_collisions()
        => Expect("TT0008", """
            public static class A { [Task("a.add")] public static int Add(int x) => x; }
            public static class B { [Task("b.add")] public static int [|Add|](int x, int y) => x + y; }
            """);

    [Fact]
    public void TT0009_negative_MaxRetries()
        => Expect("TT0009", "public static class J { [Task([|MaxRetries = -1|])] public static void Run() { } }");

    [Fact]
    public void TT0010_time_strings_that_are_not_TimeSpans()
    {
        Expect("TT0010", "public static class J { [Task([|Timeout = \"2 minutes\"|])] public static void Run() { } }");
        Expect("TT0010", "public static class J { [Task([|RetryDelay = \"-00:00:01\"|])] public static void Run() { } }");
        Expect("TT0010", "public static class J { [Task([|Expires = \"00:00:00\"|])] public static void Run() { } }");
    }

    [Fact]
    public void TT0011_invalid_queue_names()
    {
        Expect("TT0011", "public static class J { [Task([|Queue = \"\"|])] public static void Run() { } }");
        Expect("TT0011", "public static class J { [Task([|Queue = \"my queue\"|])] public static void Run() { } }");
        Expect("TT0011", "public static class J { [Task([|Queue = \"{q}\"|])] public static void Run() { } }");
        Expect("TT0011", "public static class J { [Task([|Queue = \"mail@eu\"|])] public static void Run() { } }");
    }

    [Fact]
    public void TT0012_invalid_task_names()
        => Expect("TT0012", "public static class J { [Task([|\" \"|])] public static void Run() { } }");

    [Fact]
    public void TT0013_unreachable_containing_types()
    {
        Expect("TT0013", "public static class Outer { private static class Inner { [Task] public static void [|Run|]() { } } }");
        Expect("TT0013", "public class Box<T> { [Task] public static void [|Run|]() { } }");
    }

    [Fact]
    public void TT0014_private_methods()
        => Expect("TT0014", "public static class J { [Task] private static void [|Run|]() { } }");

    [Fact]
    public void TT0015_instance_tasks_on_abstract_classes()
        => Expect("TT0015", "public abstract class J { [Task] public void [|Run|]() { } }");

    [Fact]
    public void TT0016_invalid_proxy_names()
        => Expect("TT0016", "public static class J { [Task([|ProxyName = \"not valid\"|])] public static void Run() { } }");

    [Fact]
    public void TT0017_types_without_a_constructor_MessagePack_can_call()
    {
        var only = Expect("TT0017", "public sealed class Order { private Order() { } public int Id { get; set; } } public static class J { [Task] public static void Ship(Order [|order|]) { } }");
        Assert.Contains("Parameter 'order' of task 'J.Ship'", only.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("'Order' has no public constructor", only.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("add a public parameterless constructor", only.GetMessage(), System.StringComparison.OrdinalIgnoreCase);
        Assert.Contains("[MessagePack.SerializationConstructor]", only.GetMessage(), System.StringComparison.Ordinal);

        var unmatched = Expect("TT0017", "public sealed class Order { public Order(int number) { Id = number; } public int Id { get; } } public static class J { [Task] public static void Ship(Order [|order|]) { } }");
        Assert.Contains("parameter 'number' of its constructor Order(int number) matches no public property or field", unmatched.GetMessage(), System.StringComparison.Ordinal);

        var reached = Expect("TT0017", "public sealed class Line { private Line() { } public int Qty { get; set; } } public sealed record Order(List<Line> Lines); public static class J { [Task] public static void Ship(Order [|order|]) { } }");
        Assert.Contains("'Line' (in Order.Lines) has no public constructor", reached.GetMessage(), System.StringComparison.Ordinal);

        var result = Expect("TT0017", "public sealed class Receipt { private Receipt() { } public int Id { get; set; } } public static class J { [Task] public static [|Receipt|] Make() => null!; }");
        Assert.Contains("The result of task 'J.Make'", result.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void Constructors_of_referenced_types_are_not_judged_since_a_reference_assembly_hides_private_ones()
    {
        var library = GeneratorHarness.Compile("""
            namespace Lib;
            public sealed class Token
            {
                [MessagePack.SerializationConstructor] private Token(string value) { Value = value; }
                public string Value { get; }
                public static Token Of(string value) => new(value);
            }
            """, "Lib");
        using var image = new System.IO.MemoryStream();
        Assert.True(library.Emit(image, options: new Microsoft.CodeAnalysis.Emit.EmitOptions(metadataOnly: true, includePrivateMembers: false)).Success);
        var reference = MetadataReference.CreateFromImage(image.ToArray());

        var compilation = GeneratorHarness.Compile(Usings + "public static class J { [Task] public static void Use(Lib.Token token) { } }", extra: [reference]);
        Assert.Empty(GeneratorHarness.Run(compilation).GeneratorDiagnostics);
    }

    [Fact]
    public void TT0018_interfaces_and_abstract_classes_without_a_union()
    {
        var disposable = Expect("TT0018", "public static class J { [Task] public static void Close(IDisposable [|resource|]) { } }");
        Assert.Contains("IDisposable' is an interface without [MessagePack.Union]", disposable.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("Declare a concrete class or record", disposable.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0018", "public interface IShape { } public static class J { [Task] public static void Draw(IShape [|shape|]) { } }");
        Expect("TT0018", "public abstract class Shape { } public static class J { [Task] public static void Draw(List<Shape> [|shapes|]) { } }");
        Expect("TT0018", "public interface IShape { } public sealed record Scene(IShape[] Shapes); public static class J { [Task] public static void Draw(Scene [|scene|]) { } }");
        Expect("TT0018", "public static class J { [Task] public static void Each(IEnumerable<IDisposable> [|items|]) { } }");
        Expect("TT0018", "public static class J { [Task] public static [|IComparable|] Pick() => 1; }");
    }

    [Fact]
    public void TT0019_cron_expressions_Cronos_would_refuse()
    {
        var d = Expect("TT0019", "public static class J { [Task, Periodic([|\"0 3 * *\"|])] public static void Nightly() { } }");
        Assert.Contains("it has 4 fields", d.GetMessage(), System.StringComparison.Ordinal);
        d = Expect("TT0019", "public static class J { [Task, Periodic([|\"61 * * * *\"|])] public static void Hourly() { } }");
        Assert.Contains("the minutes field '61' has value 61, outside 0-59", d.GetMessage(), System.StringComparison.Ordinal);
        d = Expect("TT0019", "public static class J { [Task, Periodic([|\"0 0 * FOO *\"|])] public static void Monthly() { } }");
        Assert.Contains("month name (JAN-DEC)", d.GetMessage(), System.StringComparison.Ordinal);
        Expect("TT0019", "public static class J { [Task, Periodic([|\"\"|])] public static void Never() { } }");
        Expect("TT0019", "public static class J { [Task, Periodic([|\"@fortnightly\"|])] public static void Sometimes() { } }");
        Expect("TT0019", "public static class J { [Task, Periodic([|\"0 0 * * MON#6\"|])] public static void SixthMonday() { } }");
    }

    [Fact]
    public void TT0020_periodic_task_with_an_argument_no_schedule_can_supply()
    {
        var d = Expect("TT0020", "public static class J { [Task, Periodic(\"* * * * *\")] public static void Report(int [|customer|], CancellationToken ct) { } }");
        Assert.Contains("parameter 'customer' of type 'int'", d.GetMessage(), System.StringComparison.Ordinal);
        Assert.Contains("ITaskSchedules.UpsertAsync", d.GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void TT0021_unknown_time_zone_is_a_warning_and_the_task_is_still_generated()
    {
        var source = Usings + "public static class J { [Task, Periodic(\"0 3 * * *\", TimeZone = \"Europe/Berlinn\")] public static void Nightly() { } }";
        var diagnostic = Assert.Single(GeneratorHarness.AllDiagnostics(source));
        Assert.Equal("TT0021", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.DefaultSeverity); // reported as an error here only because the test compilation treats warnings as errors
        Assert.Contains("\"Europe/Berlinn\"", diagnostic.GetMessage(), System.StringComparison.Ordinal);
        Assert.Equal("TimeZone = \"Europe/Berlinn\"", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        var (_, output, _) = GeneratorHarness.Run(source);
        Assert.Contains(output.SyntaxTrees, t => t.ToString().Contains("new global::TypedTasks.PeriodicSpec(\"0 3 * * *\", \"Europe/Berlinn\"", System.StringComparison.Ordinal));
    }

    [Fact]
    public void Valid_periodic_tasks_get_no_diagnostic()
    {
        var source = Usings + """
            public static class J
            {
                [Task, Periodic("0 3 * * *", TimeZone = "Europe/Berlin")] public static Task Nightly(CancellationToken ct) => Task.CompletedTask;
                [Task, Periodic("*/10 * * * * *", Misfire = MisfirePolicy.RunAll, Overlap = OverlapPolicy.Skip)] public static void Often() { }
                [Task, Periodic("@hourly", TimeZone = "America/New_York")] public static void Hourly() { }
            }
            """;
        Assert.Empty(GeneratorHarness.AllDiagnostics(source));
    }

    [Fact]
    public void Broken_code_gets_the_compiler_errors_only()
    {
        var diagnostics = GeneratorHarness.AllDiagnostics(Usings + "public static class J { [Task] public static void Run(Missing value) { } }");
        Assert.All(diagnostics, d => Assert.StartsWith("CS", d.Id, System.StringComparison.Ordinal));
        Assert.NotEmpty(diagnostics);
    }

    [Fact]
    public void A_file_of_bad_signatures_gets_one_TT_error_per_bad_line_and_none_for_the_valid_task()
    {
        var lines = new[]
        {
            "[Task] public static T Echo<T>(T value) => value;",
            "[Task] public static void Fill(out int count) => count = 1;",
            "[Task] public static int Length(ReadOnlySpan<byte> data) => data.Length;",
            "[Task] public static async void Fire() => await Task.Yield();",
            "[Task] public static void Save(Stream body) { }",
            "[Task] public static Stream Open() => Stream.Null;",
            "[Task(MaxRetries = -2)] public static void Retry() { }",
            "[Task(Timeout = \"soon\")] public static void Slow() { }",
            "[Task(Queue = \"\")] public static void Nowhere() { }",
            "[Task] private static void Hidden() { }",
        };
        var valid = "[Task] public static int Add(int x, int y) => x + y;";
        var source = Usings + "public static class J\n{\n" + string.Join("\n", lines) + "\n" + valid + "\n}\n";
        var diagnostics = GeneratorHarness.AllDiagnostics(source);

        Assert.All(diagnostics, d => Assert.StartsWith("TT", d.Id, System.StringComparison.Ordinal));
        var firstLine = Usings.Split('\n').Length + 1;
        var byLine = diagnostics.GroupBy(d => d.Location.GetLineSpan().StartLinePosition.Line).ToDictionary(g => g.Key, g => g.Count());
        for (var i = 0; i < lines.Length; i++)
        {
            Assert.True(byLine.TryGetValue(firstLine + i, out var count) && count == 1, $"Line '{lines[i]}' should get exactly one TT error.");
        }

        Assert.False(byLine.ContainsKey(firstLine + lines.Length), "The valid task must get no diagnostic.");
    }
}
