using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace MLNetMerge.Cli;

/// <summary>
/// A malformed command line as one line (exit 2) instead of System.CommandLine's error list followed by the whole help:
/// every parse error (an unknown option, a value of the wrong type, a missing required option) joined, and a word that
/// looks like an option (<c>--frobnicate</c>) but was taken as a file argument, or an option taken as another's value.
/// </summary>
internal static class CommandLineErrors
{
    /// <summary>The line describing what is wrong with <paramref name="parsed"/>, or null when it can run.</summary>
    public static string? Describe(ParseResult parsed)
    {
        string command = CommandPath(parsed.CommandResult);
        string hint = $" (see 'mlnetmerge {command}{(command.Length > 0 ? " " : "")}--help')";
        // An option whose value is missing takes the next option as its value (`--dtype -o out` read '-o' as the dtype);
        // first, as the words it leaves behind are parse errors of their own ('Unrecognized … out').
        var names = parsed.CommandResult.Command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var child in parsed.CommandResult.Children)
            if (child is OptionResult option && option.Tokens.FirstOrDefault(t => names.Contains(t.Value)) is { } swallowed)
                return $"option '{option.Option.Name}' has no value: the word after it, '{swallowed.Value}', is an option" + hint;
        // A negative number left over is a value split from its option ('--param scale -0.5'), not an unknown option.
        if (parsed.UnmatchedTokens.FirstOrDefault(t => t.Length > 1 && t[0] == '-' && double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)) is { } number)
            return $"'{number}' is a value without its option: give NAME=VALUE as one word (--param scale={number})" + hint;
        // An unknown option followed by a value was reported as the value ('Unrecognized … base.safetensors'): name the option.
        if (parsed.UnmatchedTokens.FirstOrDefault(t => t.Length > 1 && t[0] == '-' && !File.Exists(t) && !Directory.Exists(t)) is { } unknown)
            return $"unknown option '{unknown}' for '{(command.Length > 0 ? command : "mlnetmerge")}'" + hint;
        // ... or taken as the command's argument, the value then reported as unrecognized ('inspect --json FILE').
        if (parsed.Action is ParseErrorAction && ArgumentLikeOption(parsed) is { } taken)
            return Stray(taken, command) + hint;
        if (parsed.Action is ParseErrorAction && parsed.Errors.Count > 0)
            return string.Join("; ", parsed.Errors.Select(e => ExitCodes.OneLine(Reword(e.Message)).TrimEnd('.')).Distinct(StringComparer.Ordinal)) + hint;
        // An empty value ('-o ""') failed later as "The value cannot be an empty string. (Parameter 'path')".
        foreach (var child in parsed.CommandResult.Children)
        {
            if (child is OptionResult { Tokens.Count: > 0 } empty && empty.Tokens.Any(t => t.Value.Length == 0))
                return $"option '{empty.Option.Name}' has an empty value" + hint;
            if (child is ArgumentResult { Tokens.Count: > 0 } blank && blank.Tokens.Any(t => t.Value.Length == 0))
                return $"argument '{blank.Argument.Name}' is empty" + hint;
        }
        foreach (var child in parsed.CommandResult.Children)
        {
            if (child is not ArgumentResult argument) continue;
            foreach (var token in argument.Tokens)
            {
                string v = token.Value;
                if (v.Length > 1 && v[0] == '-' && !File.Exists(v) && !Directory.Exists(v))
                    return Stray(v, command) + hint;
            }
        }
        return null;
    }

    /// <summary>A word that starts with '-' where no option is: a negative number split from its option, or an unknown option.</summary>
    private static string Stray(string word, string command) =>
        double.TryParse(word, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? $"'{word}' is a value without its option: give NAME=VALUE as one word (--param scale={word})"
            : $"unknown option '{word}' for '{(command.Length > 0 ? command : "mlnetmerge")}'";

    /// <summary>A word of the command's arguments that looks like an option and names no file, or null.</summary>
    private static string? ArgumentLikeOption(ParseResult parsed) =>
        parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value)
            .FirstOrDefault(v => v.Length > 1 && v[0] == '-' && !File.Exists(v) && !Directory.Exists(v));

    /// <summary>System.CommandLine's type names in words (<c>System.UInt64</c> → an unsigned integer).</summary>
    private static string Reword(string message) => message
        .Replace("expected type 'System.UInt64'", "an unsigned integer (0 to 18446744073709551615)", StringComparison.Ordinal)
        .Replace("expected type 'System.Int32'", "an integer", StringComparison.Ordinal)
        .Replace("expected type 'System.Double'", "a number", StringComparison.Ordinal)
        .Replace("expected type 'System.Boolean'", "true or false", StringComparison.Ordinal);

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
            if (c.Parent is not null) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }
}
