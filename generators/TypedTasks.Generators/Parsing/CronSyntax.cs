using System.Collections.Generic;
using System.Globalization;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// Checks the text of a cron expression the way the worker's parser (Cronos) reads it, without
/// referencing it: 5 fields, or 6 with seconds first, separated by spaces or tabs; each field
/// <c>*</c> or <c>?</c> (with an optional <c>/step</c>), or a list of values, ranges and steps;
/// month names (JAN-DEC) and day names (SUN-SAT); <c>L</c>, <c>L-n</c>, <c>LW</c> and <c>nW</c> in
/// the day of month; <c>nL</c> and <c>n#k</c> in the day of week; or one macro such as <c>@daily</c>.
/// </summary>
internal static class CronSyntax
{
    private enum Kind
    {
        Second,
        Minute,
        Hour,
        DayOfMonth,
        Month,
        DayOfWeek,
    }

    private static readonly string[] Macros =
        ["@annually", "@yearly", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every_minute", "@every_second"];

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>Why <paramref name="text"/> is not a cron expression, or null when it is one.</summary>
    public static string? Problem(string? text)
    {
        if (text is null || Fields(text).Count == 0)
        {
            return "it is empty";
        }

        var fields = Fields(text);
        if (fields[0].StartsWith("@", System.StringComparison.Ordinal))
        {
            foreach (var macro in Macros)
            {
                if (fields.Count == 1 && string.Equals(fields[0], macro, System.StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
            }

            return $"'{string.Join(" ", fields)}' is not a known macro ({string.Join(", ", Macros)})";
        }

        if (fields.Count is not (5 or 6))
        {
            return $"it has {fields.Count} field{(fields.Count == 1 ? string.Empty : "s")}; write 5 (minute hour day-of-month month day-of-week) or 6 with seconds first";
        }

        var kinds = new List<Kind>();
        if (fields.Count == 6)
        {
            kinds.Add(Kind.Second);
        }

        kinds.AddRange([Kind.Minute, Kind.Hour, Kind.DayOfMonth, Kind.Month, Kind.DayOfWeek]);
        for (var i = 0; i < fields.Count; i++)
        {
            if (Field(kinds[i], fields[i]) is { } problem)
            {
                return $"the {Name(kinds[i])} field '{fields[i]}' {problem}";
            }
        }

        return null;
    }

    private static List<string> Fields(string text)
    {
        var fields = new List<string>();
        foreach (var part in text.Split(' ', '\t'))
        {
            if (part.Length > 0)
            {
                fields.Add(part);
            }
        }

        return fields;
    }

    private static string? Field(Kind kind, string text)
    {
        var reader = new Reader(text);
        if (reader.Accept('*') || reader.Accept('?'))
        {
            if (reader.Accept('/') && reader.Number(1, Last(kind), "step") is { } stepProblem)
            {
                return stepProblem;
            }

            return reader.End();
        }

        if (kind == Kind.DayOfMonth && reader.AcceptLetter('L'))
        {
            if (reader.Accept('-') && reader.Number(0, 30, "offset from the last day") is { } offsetProblem)
            {
                return offsetProblem;
            }

            reader.AcceptLetter('W');
            return reader.End();
        }

        if (reader.Value(kind) is { } first)
        {
            return first;
        }

        if (kind == Kind.DayOfMonth && reader.AcceptLetter('W'))
        {
            return reader.End();
        }

        if (kind == Kind.DayOfWeek)
        {
            if (reader.AcceptLetter('L'))
            {
                return reader.End();
            }

            if (reader.Accept('#'))
            {
                return reader.Number(1, 5, "week of the month after '#'") ?? reader.End();
            }
        }

        while (true)
        {
            if (Range(kind, reader) is { } rangeProblem)
            {
                return rangeProblem;
            }

            if (!reader.Accept(','))
            {
                return reader.End();
            }

            if (reader.Value(kind) is { } next)
            {
                return next;
            }
        }
    }

    /// <summary>What may follow a value: <c>-high</c> with an optional <c>/step</c>, or <c>/step</c>.</summary>
    private static string? Range(Kind kind, Reader reader)
    {
        if (reader.Accept('-') && reader.Value(kind) is { } high)
        {
            return high;
        }

        return reader.Accept('/') ? reader.Number(1, Last(kind), "step") : null;
    }

    private static int First(Kind kind) => kind is Kind.DayOfMonth or Kind.Month ? 1 : 0;

    private static int Last(Kind kind) => kind switch
    {
        Kind.Second or Kind.Minute => 59,
        Kind.Hour => 23,
        Kind.DayOfMonth => 31,
        Kind.Month => 12,
        _ => 7,
    };

    private static string Name(Kind kind) => kind switch
    {
        Kind.Second => "seconds",
        Kind.Minute => "minutes",
        Kind.Hour => "hours",
        Kind.DayOfMonth => "day-of-month",
        Kind.Month => "month",
        _ => "day-of-week",
    };

    /// <summary>A cursor over one field.</summary>
    private sealed class Reader(string text)
    {
        private int _at;

        private char Current => _at < text.Length ? text[_at] : '\0';

        public bool Accept(char c)
        {
            if (Current != c)
            {
                return false;
            }

            _at++;
            return true;
        }

        public bool AcceptLetter(char upper) => char.ToUpperInvariant(Current) == upper && Accept(Current);

        public string? End()
            => _at == text.Length ? null : $"has an unexpected '{text[_at]}' at position {(_at + 1).ToString(CultureInfo.InvariantCulture)}";

        /// <summary>A value of the field: a number in its range, or a month or day name where the field has names.</summary>
        public string? Value(Kind kind)
        {
            var names = kind == Kind.Month ? MonthNames : kind == Kind.DayOfWeek ? DayNames : null;
            if (names is not null && char.IsLetter(Current))
            {
                var name = _at + 3 <= text.Length ? text.Substring(_at, 3).ToUpperInvariant() : string.Empty;
                var index = System.Array.IndexOf(names, name);
                if (index < 0)
                {
                    return $"has '{text.Substring(_at)}' where a {(kind == Kind.Month ? "month name (JAN-DEC)" : "day name (SUN-SAT)")} or a number was expected";
                }

                _at += 3;
                return null;
            }

            return Number(First(kind), Last(kind), "value");
        }

        /// <summary>A number of one or two digits between <paramref name="low"/> and <paramref name="high"/>.</summary>
        public string? Number(int low, int high, string what)
        {
            var start = _at;
            while (char.IsDigit(Current) && Current <= '9' && Current >= '0')
            {
                _at++;
            }

            var digits = text.Substring(start, _at - start);
            if (digits.Length == 0)
            {
                return $"has {(start < text.Length ? $"'{text[start]}'" : "nothing")} at position {(start + 1).ToString(CultureInfo.InvariantCulture)} where a {what} from {low.ToString(CultureInfo.InvariantCulture)} to {high.ToString(CultureInfo.InvariantCulture)} was expected";
            }

            var value = digits.Length <= 2 ? int.Parse(digits, CultureInfo.InvariantCulture) : -1;
            return value < low || value > high
                ? $"has {what} {digits}, outside {low.ToString(CultureInfo.InvariantCulture)}-{high.ToString(CultureInfo.InvariantCulture)}"
                : null;
        }
    }
}
