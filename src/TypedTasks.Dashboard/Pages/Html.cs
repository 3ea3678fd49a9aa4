using System;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace TypedTasks.Dashboard.Pages;

/// <summary>Builds one HTML page; every piece of text from the store goes through <see cref="Text"/>, never raw.</summary>
internal sealed class Html
{
    private readonly StringBuilder _builder = new(4096);

    /// <summary>Markup written as is: only literals of this assembly, never data.</summary>
    public Html Raw(string markup)
    {
        _builder.Append(markup);
        return this;
    }

    /// <summary>Text, encoded for an element's content or an attribute's value.</summary>
    public Html Text(string? text)
    {
        _builder.Append(HtmlEncoder.Default.Encode(text ?? string.Empty));
        return this;
    }

    public Html Number(long value) => Raw(value.ToString("N0", CultureInfo.InvariantCulture));

    public Html Time(DateTimeOffset? time)
        => time is { } t
            ? Raw("<time datetime=\"").Text(t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Raw("\">").Text(t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Raw("</time>")
            : Raw("–");

    public static string Encode(string text) => HtmlEncoder.Default.Encode(text);

    public static string Url(string text) => UrlEncoder.Default.Encode(text);

    public override string ToString() => _builder.ToString();
}
