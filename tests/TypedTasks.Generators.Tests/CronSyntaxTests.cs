using Cronos;
using TypedTasks.Generators.Parsing;

namespace TypedTasks.Generators.Tests;

/// <summary>
/// The generator's cron check against the worker's parser (Cronos): every expression here is
/// accepted by both or refused by both, so TT0019 neither lets through what a worker would refuse
/// nor refuses what it would run.
/// </summary>
public sealed class CronSyntaxTests
{
    public static TheoryData<string> Expressions() => new(
        // 5 and 6 fields, stars, question marks, steps, ranges, lists, names.
        "* * * * *", "0 3 * * *", "*/5 * * * *", "0 */6 * * *", "0 9-17 * * MON-FRI", "0 0 1,15 * *",
        "30 2 * JAN,jul *", "0 0 ? * SUN", "0 0 * * 7", "* * * * * *", "*/10 * * * * *", "0 0 3 * * *",
        "5-10/2 * * * *", "10/15 * * * *", "0 22-2 * * *", "0 0 * * SAT-SUN", "  0   3 * *\t*  ", "0 0 L * *",
        "0 0 L-3 * *", "0 0 LW * *", "0 0 15W * *", "0 0 * * 5L", "0 0 * * FRIL", "0 0 * * MON#2", "0 0 * * 1#5",
        "@daily", "@HOURLY", "@every_second", "@every_minute", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
        // Refused.
        "", "   ", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "*/60 * * * *", "1-60 * * * *", "100 * * * *", "* * * FOO *", "* * * * FUNDAY",
        "* * * * MON#6", "* * * * MON#0", "* * L-31 * *", "* * 15W,16 * *", "*,5 * * * *", "5,* * * * *", "a * * * *",
        "* * * JANUARY *", "@fortnightly", "@daily *", "5- * * * *", "5/ * * * *", "* * * * 5L,6", ", * * * *",
        "* * W * *", "* * * * L", "1--2 * * * *", "0 0 * * * MON");

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Generator_and_Cronos_agree(string expression)
    {
        var generator = CronSyntax.Problem(expression);
        string? cronos = null;
        try
        {
            var fields = expression.Split([' ', '\t'], System.StringSplitOptions.RemoveEmptyEntries).Length;
            CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            cronos = ex.Message;
        }

        Assert.True((generator is null) == (cronos is null), $"'{expression}': generator says {generator ?? "valid"}, Cronos says {cronos ?? "valid"}.");
    }
}
