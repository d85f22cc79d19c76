using System.Globalization;
using System.Text;

namespace MLNetMerge.Data;

/// <summary>
/// Parses the subset of Python literal syntax that NPY headers use (what <c>ast.literal_eval</c> accepts there):
/// dicts with string keys, tuples, lists, single- or double-quoted strings, integers (an old Python 2 <c>L</c> suffix is
/// accepted), <c>True</c>, <c>False</c>, <c>None</c>. Values come back as <see cref="string"/>, <see cref="long"/>,
/// <see cref="bool"/>, null, <see cref="PythonTuple"/>, <see cref="List{T}"/> and <see cref="Dictionary{TKey, TValue}"/>.
/// </summary>
internal ref struct PythonLiteral
{
    private readonly ReadOnlySpan<char> _text;
    private int _pos;

    private PythonLiteral(ReadOnlySpan<char> text)
    {
        _text = text;
        _pos = 0;
    }

    /// <summary>A Python tuple's items.</summary>
    internal sealed record PythonTuple(IReadOnlyList<object?> Items);

    /// <summary>Parses one literal spanning all of <paramref name="text"/> (surrounding whitespace allowed).</summary>
    /// <exception cref="FormatException">The text is not such a literal; the message gives the offset.</exception>
    public static object? Parse(ReadOnlySpan<char> text)
    {
        var parser = new PythonLiteral(text);
        object? value = parser.ParseValue();
        parser.SkipWhitespace();
        if (parser._pos != text.Length) throw parser.Error("unexpected text after the literal");
        return value;
    }

    private object? ParseValue()
    {
        SkipWhitespace();
        if (_pos >= _text.Length) throw Error("unexpected end");
        char c = _text[_pos];
        switch (c)
        {
            case '{': return ParseDict();
            case '(': return new PythonTuple(ParseSequence('(', ')', isTuple: true));
            case '[': return ParseSequence('[', ']', isTuple: false);
            case '\'' or '"': return ParseString();
        }
        if (c == '-' || c == '+' || char.IsAsciiDigit(c)) return ParseInteger();
        if (TryKeyword("True")) return true;
        if (TryKeyword("False")) return false;
        if (TryKeyword("None")) return null;
        throw Error($"unexpected character '{c}'");
    }

    private Dictionary<string, object?> ParseDict()
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        _pos++; // '{'
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}') { _pos++; return dict; }
            if (ParseValue() is not string key) throw Error("dict keys must be strings");
            SkipWhitespace();
            Expect(':');
            dict[key] = ParseValue();
            SkipWhitespace();
            if (Peek() == ',') { _pos++; continue; }
            Expect('}');
            return dict;
        }
    }

    private List<object?> ParseSequence(char open, char close, bool isTuple)
    {
        var items = new List<object?>();
        _pos++; // open
        bool sawComma = false;
        while (true)
        {
            SkipWhitespace();
            if (Peek() == close) { _pos++; break; }
            items.Add(ParseValue());
            SkipWhitespace();
            if (Peek() == ',') { _pos++; sawComma = true; continue; }
            Expect(close);
            break;
        }
        // "(5)" is a parenthesised int in Python, not a tuple.
        if (isTuple && items.Count == 1 && !sawComma) throw Error($"'{open}x{close}' without a comma is not a tuple");
        return items;
    }

    private string ParseString()
    {
        char quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length) throw Error("unterminated string");
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\n') throw Error("newline inside a string");
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _text.Length) throw Error("unterminated escape");
            char e = _text[_pos++];
            sb.Append(e switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                '\\' or '\'' or '"' => e,
                _ => throw Error($"unsupported escape '\\{e}'"),
            });
        }
    }

    private long ParseInteger()
    {
        int start = _pos;
        if (_text[_pos] is '-' or '+') _pos++;
        int digits = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (_pos == digits) throw Error("expected digits");
        if (_pos < _text.Length && _text[_pos] is '.' or 'e' or 'E') throw Error("expected an integer");
        if (!long.TryParse(_text[start.._pos], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw Error("integer out of range");
        if (_pos < _text.Length && _text[_pos] is 'L' or 'l') _pos++; // Python 2 long suffix
        return value;
    }

    private bool TryKeyword(string word)
    {
        if (!_text[_pos..].StartsWith(word, StringComparison.Ordinal)) return false;
        int end = _pos + word.Length;
        if (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_')) return false;
        _pos = end;
        return true;
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c) throw Error(_pos < _text.Length ? $"expected '{c}' but found '{_text[_pos]}'" : $"expected '{c}' but the text ended");
        _pos++;
    }

    private readonly FormatException Error(string what) => new($"{what} at offset {_pos}");
}
