using Spectre.Console;
using Spectre.Console.Rendering;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// Spectre.Console's console, set up on first use: its terminal detection costs tens of milliseconds at startup, which
/// commands that print no table (a merge with redirected output) should not pay. Escape codes go only to a terminal:
/// where output is redirected (a pipe, a file, CI logs) the console writes plain text whatever the environment claims,
/// and tables are laid out 160 characters wide so their columns stay readable; colour is never used when the
/// <c>NO_COLOR</c> environment variable is set to anything non-empty (no-color.org).
/// </summary>
internal static class Terminal
{
    private static readonly Lazy<IAnsiConsole> Instance = new(() =>
        Create(!System.Console.IsOutputRedirected, !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")), System.Console.Out));

    /// <summary>A console writing to <paramref name="output"/>: ANSI and colour detected on a terminal, none otherwise; no
    /// colour with <paramref name="noColor"/>.</summary>
    internal static IAnsiConsole Create(bool terminal, bool noColor, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal && !noColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!terminal) console.Profile.Width = 160;
        return console;
    }

    /// <summary>The configured console.</summary>
    public static IAnsiConsole Console => Instance.Value;

    /// <summary>Writes a table or other renderable.</summary>
    public static void Write(IRenderable renderable) => Instance.Value.Write(renderable);

    /// <summary>Widens the layout to at least <paramref name="width"/> characters where output is redirected (wide tables).</summary>
    public static void AtLeastWhenRedirected(int width)
    {
        if (System.Console.IsOutputRedirected) Console.Profile.Width = Math.Max(Console.Profile.Width, width);
    }
}
