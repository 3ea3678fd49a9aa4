using System;
using System.Linq;
using System.Reflection;
using MessagePack;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// The generator's rule for argument types against MessagePack itself: each declaration is run
/// through the generator, then a value of the parameter's type goes through
/// <see cref="TaskSerializer.Options"/> and back. A type the generator accepts must round-trip;
/// a type it rejects must fail at run time, so that the diagnostic never refuses working code.
/// </summary>
public sealed class ArgumentTypeRuntimeTests
{
    /// <summary>Case name, declarations, the parameter's type, a sample value, and the expected diagnostic (null: accepted).</summary>
    public static TheoryData<string, string, string, string, string?> Cases => new()
    {
        // Accepted: MessagePack finds a constructor.
        { "positional record", "public sealed record Point(int X, string Y);", "Point", "new Point(1, \"a\")", null },
        { "setters only", "public sealed class Plain { public int A { get; set; } public string? B; }", "Plain", "new Plain { A = 1, B = \"b\" }", null },
        { "constructor names ignore case", "public sealed class Get { public Get(int a) { A = a; } public int A { get; } }", "Get", "new Get(3)", null },
        { "widest constructor unmatched, next one matches", "public sealed class Two { public Two(int a) { A = a; } public Two(int a, int other) { A = a + other; } public int A { get; } }", "Two", "new Two(5)", null },
        { "private [SerializationConstructor]", "public sealed class Marked { [MessagePack.SerializationConstructor] private Marked(int a) { A = a; } public int A { get; } public static Marked Make() => new(1); }", "Marked", "Marked.Make()", null },
        { "public constructor beside a private parameterless one", "public sealed class Mixed { private Mixed() { } public Mixed(int a) { A = a; } public int A { get; set; } }", "Mixed", "new Mixed(1)", null },
        { "struct without constructors", "public struct Bare { public int A { get; set; } }", "Bare", "new Bare { A = 1 }", null },
        { "struct with a private constructor only", "public struct Hidden { private Hidden(int a) { A = a; } public int A { get; set; } }", "Hidden", "new Hidden { A = 2 }", null },
        { "record struct", "public record struct Pair(int X, int Y);", "Pair", "new Pair(1, 2)", null },
        { "constructor parameter of a base type", "public sealed class Wide { public Wide(IEnumerable<int> items) { Items = items.ToList(); } public List<int> Items { get; } }", "Wide", "new Wide(new List<int> { 1 })", null },
        { "constructor parameter boxes", "public sealed class Boxed { public Boxed(IComparable a) { A = (int)a; } public int A { get; } }", "Boxed", "new Boxed(3)", null },
        { "inherited member", "public class Base { public int A { get; set; } } public sealed class Derived : Base { public Derived(int a, int b) { A = a; B = b; } public int B { get; } }", "Derived", "new Derived(1, 2)", null },
        { "tuple element names differ", "public sealed class Tupled { public Tupled((int x, int y) p) { P = p; } public (int a, int b) P { get; } }", "Tupled", "new Tupled((1, 2))", null },
        { "computed property of an unsupported type is not carried", "public sealed class Computed { public int A { get; set; } public Stream Body => Stream.Null; }", "Computed", "new Computed { A = 1 }", null },
        { "[MessagePackObject] with a constructor by key index", "[MessagePack.MessagePackObject] public sealed class Indexed { public Indexed(int first, string second) { A = first; B = second; } [MessagePack.Key(0)] public int A { get; } [MessagePack.Key(1)] public string B { get; } }", "Indexed", "new Indexed(1, \"x\")", null },
        { "[MessagePackObject(true)] with a constructor", "[MessagePack.MessagePackObject(true)] public sealed class Named { public Named(int a) { A = a; } public int A { get; } }", "Named", "new Named(1)", null },
        { "[DataContract] with a constructor", "[System.Runtime.Serialization.DataContract] public sealed class Contract { public Contract(int a) { A = a; } [System.Runtime.Serialization.DataMember] public int A { get; } }", "Contract", "new Contract(1)", null },
        { "internal enum", "internal enum Color { Red, Blue }", "Color", "Color.Blue", null },
        { "[Union] interface with a contractless case", "[MessagePack.Union(0, typeof(Circle))] public interface IShape { } public sealed class Circle : IShape { public double R { get; set; } }", "IShape", "new Circle { R = 2 }", null },
        { "[Union] abstract class with a positional case", "[MessagePack.Union(0, typeof(Square))] public abstract class Shape { } public sealed class Square(int side) : Shape { public int Side { get; } = side; }", "Shape", "new Square(3)", null },

        // Rejected: no constructor MessagePack can call.
        { "private constructor only", "public sealed class Locked { private Locked() { } public int A { get; set; } public static Locked Make() => new() { A = 1 }; }", "Locked", "Locked.Make()", "TT0017" },
        { "protected constructor only", "public class Guarded { protected Guarded() { } public int A { get; set; } public static Guarded Make() => new() { A = 1 }; }", "Guarded", "Guarded.Make()", "TT0017" },
        { "internal constructor only", "public sealed class Inside { internal Inside() { } public int A { get; set; } }", "Inside", "new Inside { A = 1 }", "TT0017" },
        { "constructor parameter matches no member", "public sealed class Renamed { public Renamed(int value) { A = value; } public int A { get; set; } }", "Renamed", "new Renamed(1)", "TT0017" },
        { "constructor parameter wider than its member", "public sealed class Widened { public Widened(long a) { A = (int)a; } public int A { get; } }", "Widened", "new Widened(3)", "TT0017" },
        { "constructor parameter narrower than its member", "public sealed class Narrowed { public Narrowed(List<int> items) { Items = items; } public IEnumerable<int> Items { get; } }", "Narrowed", "new Narrowed(new List<int> { 1 })", "TT0017" },
        { "constructor parameter nullable, member not", "public sealed class Lifted { public Lifted(int? a) { A = a ?? 0; } public int A { get; } }", "Lifted", "new Lifted(3)", "TT0017" },
        { "optional constructor parameter without a member", "public sealed class Optional { public Optional(int a, int extra = 0) { A = a + extra; } public int A { get; } }", "Optional", "new Optional(2)", "TT0017" },
        { "constructor parameter matches an ignored member", "public sealed class Ignored { public Ignored(int a) { A = a; } [MessagePack.IgnoreMember] public int A { get; } }", "Ignored", "new Ignored(1)", "TT0017" },
        { "constructor parameter matches a set-only property", "public sealed class SetOnly { private int a; public SetOnly(int a) { this.a = a; } public int A { set => a = value; } public int Get() => a; }", "SetOnly", "new SetOnly(2)", "TT0017" },
        { "[SerializationConstructor] unmatched", "public sealed class Misled { public Misled() { } [MessagePack.SerializationConstructor] public Misled(int other) { A = other; } public int A { get; set; } }", "Misled", "new Misled(1)", "TT0017" },
        { "two [SerializationConstructor]", "public sealed class Twice { [MessagePack.SerializationConstructor] public Twice() { } [MessagePack.SerializationConstructor] public Twice(int a) { A = a; } public int A { get; set; } }", "Twice", "new Twice(1)", "TT0017" },
        { "struct with an unmatched constructor", "public struct Shifted { public Shifted(int other) { A = other; } public int A { get; set; } }", "Shifted", "new Shifted(1)", "TT0017" },
        { "nullable struct with an unmatched constructor", "public struct Shifted { public Shifted(int other) { A = other; } public int A { get; set; } }", "Shifted?", "(Shifted?)new Shifted(1)", "TT0017" },
        { "[MessagePackObject] with a private constructor", "[MessagePack.MessagePackObject] public sealed class Sealed { private Sealed() { } [MessagePack.Key(0)] public int A { get; set; } public static Sealed Make() => new() { A = 1 }; }", "Sealed", "Sealed.Make()", "TT0017" },
        { "[MessagePackObject] constructor type differs by index", "[MessagePack.MessagePackObject] public sealed class Typed { public Typed(string a) { A = a.Length; } [MessagePack.Key(0)] public int A { get; } }", "Typed", "new Typed(\"x\")", "TT0017" },
        { "member of a type without a constructor", "public sealed class Locked { private Locked() { } public int A { get; set; } public static Locked Make() => new() { A = 1 }; } public sealed class Holder { public Locked? Inner { get; set; } }", "Holder", "new Holder { Inner = Locked.Make() }", "TT0017" },
        { "[Union] case without a constructor", "[MessagePack.Union(0, typeof(Circle))] public interface IShape { } public sealed class Circle : IShape { public Circle(double radius) { R = radius; } public double R { get; } }", "IShape", "new Circle(2)", "TT0017" },
        { "list of a type without a constructor", "public sealed class Renamed { public Renamed(int value) { A = value; } public int A { get; set; } }", "List<Renamed>", "new List<Renamed> { new(1) }", "TT0017" },

        // Rejected: no formatter at all, or one that throws.
        { "IDisposable", "public sealed class Resource : IDisposable { public void Dispose() { } }", "IDisposable", "new Resource()", "TT0018" },
        { "abstract class without a union", "public abstract class Shape { public int A { get; set; } } public sealed class Square : Shape { }", "Shape", "new Square { A = 1 }", "TT0018" },
        { "internal class", "internal sealed class Secret { public int A { get; set; } }", "Secret", "new Secret { A = 1 }", "TT0005" },
        { "public class nested in an internal one", "internal static class Outer { public sealed class Inner { public int A { get; set; } } }", "Outer.Inner", "new Outer.Inner { A = 1 }", "TT0005" },
        { "generic class over an internal class", "internal sealed class Secret { public int A { get; set; } } public sealed class Box<T> { public Box(T value) { Value = value; } public T Value { get; } }", "Box<Secret>", "new Box<Secret>(new Secret())", "TT0005" },
        { "[MessagePackObject] member without [Key]", "[MessagePack.MessagePackObject] public sealed class Unkeyed { [MessagePack.Key(0)] public int A { get; set; } public int B { get; set; } }", "Unkeyed", "new Unkeyed { A = 1, B = 2 }", "TT0005" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_generator_accepts_exactly_the_types_that_round_trip(string name, string declarations, string type, string sample, string? expected)
    {
        var source = $$"""
            #nullable enable
            using System;
            using System.Collections.Generic;
            using System.IO;
            using System.Linq;
            using TypedTasks;

            {{declarations}}

            internal static class Case
            {
                [Task] internal static void Run({{type}} value) { }

                public static object? Sample() => {{sample}};
            }
            """;
        var assemblyName = "Case" + string.Concat(name.Where(char.IsLetterOrDigit));

        var diagnostics = GeneratorHarness.Run(GeneratorHarness.Compile(source, assemblyName)).GeneratorDiagnostics;
        Assert.Equal(expected, Assert.Single(diagnostics.Select(d => d.Id).DefaultIfEmpty()));

        var assembly = GeneratorHarness.Load(GeneratorHarness.Compile(source, assemblyName));
        var @case = assembly.GetType("Case")!;
        var parameterType = @case.GetMethod("Run", BindingFlags.NonPublic | BindingFlags.Static)!.GetParameters()[0].ParameterType;
        var value = @case.GetMethod("Sample")!.Invoke(null, null);

        var failure = Record.Exception(() =>
        {
            var bytes = MessagePackSerializer.Serialize(parameterType, value, TaskSerializer.Options);
            var back = MessagePackSerializer.Deserialize(parameterType, bytes, TaskSerializer.Options);
            Assert.Equal(bytes, MessagePackSerializer.Serialize(parameterType, back, TaskSerializer.Options));
        });

        if (expected is null)
        {
            Assert.Null(failure);
        }
        else
        {
            Assert.IsType<MessagePackSerializationException>(failure);
        }
    }
}
