using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedTasks.Generators.Diagnostics;
using TypedTasks.Generators.Model;

namespace TypedTasks.Generators.Parsing;

/// <summary>
/// The checks of <c>RateLimit</c>, <c>RateLimitKey</c>, <c>MaxConcurrency</c> and
/// <c>ConcurrencyKey</c>: the rate is a count per second, minute or hour, a key names a carried
/// argument of a stable encoding (as a unique argument must), and a key comes with its limit.
/// </summary>
internal static class LimitChecks
{
    /// <summary>The most starts a rate limit allows per window.</summary>
    private const int MaxRateCount = 1_000_000;

    /// <summary>The task's limits, or null when it has none; reports what is wrong.</summary>
    public static LimitModel? Check(
        IMethodSymbol method,
        Func<IParameterSymbol, bool> isSupplied,
        AttributeData attribute,
        AttributeSyntax? attributeSyntax,
        string display,
        LocationInfo? methodLocation,
        List<DiagnosticInfo> diagnostics)
    {
        string? rateText = null, rateKey = null, concurrencyKey = null;
        bool rateGiven = false, concurrencyGiven = false;
        var maxConcurrency = 0;
        foreach (var argument in attribute.NamedArguments)
        {
            switch (argument.Key)
            {
                case "RateLimit":
                    rateText = argument.Value.Value as string;
                    rateGiven = rateText is not null;
                    break;
                case "RateLimitKey":
                    rateKey = argument.Value.Value as string;
                    break;
                case "MaxConcurrency":
                    maxConcurrency = argument.Value.Value is int max ? max : 0;
                    concurrencyGiven = maxConcurrency != 0;
                    break;
                case "ConcurrencyKey":
                    concurrencyKey = argument.Value.Value as string;
                    break;
            }
        }

        (int Count, long Ticks)? rate = null;
        if (rateGiven)
        {
            rate = ParseRate(rateText!);
            if (rate is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidRateLimit, Location("RateLimit"), display, rateText!));
            }
        }

        if (maxConcurrency < 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NegativeMaxConcurrency, Location("MaxConcurrency"), display, maxConcurrency.ToString(CultureInfo.InvariantCulture)));
        }

        var carried = method.Parameters.Where(p => !isSupplied(p)).ToList();
        var ratePosition = Key("RateLimitKey", rateKey, rateGiven, "RateLimit", "RateLimit = \"100/s\"");
        var concurrencyPosition = Key("ConcurrencyKey", concurrencyKey, concurrencyGiven, "MaxConcurrency", "MaxConcurrency = 4");
        return rate is null && maxConcurrency <= 0
            ? null
            : new LimitModel(rate?.Count ?? 0, rate?.Ticks, rate is null ? null : ratePosition, Math.Max(0, maxConcurrency), maxConcurrency > 0 ? concurrencyPosition : null);

        LocationInfo? Location(string name) => TaskParser.ArgumentLocation(attributeSyntax, name, -1) ?? methodLocation;

        // The position of a key parameter among the carried arguments, or null.
        int? Key(string property, string? name, bool limitGiven, string limit, string example)
        {
            if (name is null)
            {
                return null;
            }

            var location = Location(property);
            if (!limitGiven)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LimitKeyWithoutLimit, location, display, property, limit, example));
            }

            var position = UniqueChecks.Position(method, carried, name, out var why);
            if (position < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LimitKeyUnknownParameter, location, property, display, name, why));
                return null;
            }

            var parameter = carried[position];
            if (!UniqueChecks.IsStable(parameter.Type))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LimitKeyUnstableType, location, property, display, parameter.Name, parameter.Type.ToDisplayString()));
            }

            return position;
        }
    }

    /// <summary>"N/s", "N/m" or "N/h" with N a whole number of 1 to <see cref="MaxRateCount"/>: the count and the window's ticks; else null.</summary>
    internal static (int Count, long Ticks)? ParseRate(string text)
    {
        var slash = text.IndexOf('/');
        if (slash <= 0 || slash != text.Length - 2)
        {
            return null;
        }

        var ticks = text[text.Length - 1] switch
        {
            's' => TimeSpan.TicksPerSecond,
            'm' => TimeSpan.TicksPerMinute,
            'h' => TimeSpan.TicksPerHour,
            _ => 0,
        };
        return ticks != 0
            && int.TryParse(text.Substring(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count is >= 1 and <= MaxRateCount
            ? (count, ticks)
            : null;
    }
}
