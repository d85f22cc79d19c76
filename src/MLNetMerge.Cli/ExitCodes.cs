using System.Runtime.InteropServices;

namespace MLNetMerge.Cli;

/// <summary>
/// The exit codes of <c>mlnetmerge</c> and the one line printed for each failure: 0 success; 1 an internal error (a bug:
/// the line names the exception type; <c>MLNETMERGE_DEBUG=1</c> adds the stack trace); 2 bad input (a malformed command
/// line, a typed <see cref="MergeException"/> naming the file and tensor, a missing or unreadable file, an argument the
/// library refuses); 130 and 143 when SIGINT or SIGTERM stopped the run (see <see cref="Interrupts"/>).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>A failure that is MLNetMerge's fault, not the input's.</summary>
    public const int InternalError = 1;

    /// <summary>Bad input: the command line, a file, a recipe or a model.</summary>
    public const int BadInput = 2;

    /// <summary>The exit code and the one line to print for <paramref name="e"/>.</summary>
    public static (int Code, string Line) Of(Exception e, PosixSignal? signal)
    {
        e = Unwrap(e);
        if (signal is { } s && e is OperationCanceledException) return (Interrupts.ExitCode(s), Interrupts.Message(s));
        return e switch
        {
            MergeException or IOException or UnauthorizedAccessException => (BadInput, "error: " + OneLine(e.Message)),
            // The CLI hands the user's values to the library; a refused value is bad input (null arguments are bugs).
            ArgumentException and not ArgumentNullException => (BadInput, "error: " + OneLine(e.Message)),
            _ => (InternalError, $"internal error: {e.GetType().Name}: {OneLine(e.Message)} (a bug in MLNetMerge; run with MLNETMERGE_DEBUG=1 for the stack trace)"),
        };
    }

    /// <summary>The single inner exception of an <see cref="AggregateException"/> or reflection wrapper.</summary>
    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
            else return e;
        }
    }

    /// <summary>A message on one line (line breaks become spaces).</summary>
    public static string OneLine(string message)
    {
        string line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Names come from the files: control characters and bidirectional overrides are written as escapes (a NUL or a
        // right-to-left override in a tensor name would garble the terminal line), and a huge name is cut.
        var sb = new System.Text.StringBuilder(line.Length);
        foreach (char c in line)
            if (char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069') sb.Append($"\\u{(int)c:X4}");
            else sb.Append(c);
        return sb.Length <= MaxLine ? sb.ToString() : sb.ToString(0, MaxLine) + $"… ({sb.Length - MaxLine} more characters)";
    }

    /// <summary>The longest error line written (a 100 KB tensor name made a 100 KB line).</summary>
    public const int MaxLine = 2000;
}
