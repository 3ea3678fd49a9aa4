using System;
using System.Text;

namespace TypedTasks.Generators.Emitting;

/// <summary>Writes C# text line by line with the current indentation; braces open and close blocks.</summary>
internal sealed class SourceWriter
{
    private const string Indent = "    ";
    private readonly StringBuilder _text = new();
    private int _depth;

    public SourceWriter Line(string line = "")
    {
        if (line.Length == 0)
        {
            _text.Append('\n');
            return this;
        }

        for (var i = 0; i < _depth; i++)
        {
            _text.Append(Indent);
        }

        _text.Append(line).Append('\n');
        return this;
    }

    /// <summary>Writes every line of a multi-line block at the current indentation.</summary>
    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    public SourceWriter Open(string line)
    {
        Line(line);
        Line("{");
        _depth++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("Close without Open.");
        }

        _depth--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
