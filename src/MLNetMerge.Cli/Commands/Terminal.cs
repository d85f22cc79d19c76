using Spectre.Console;
using Spectre.Console.Rendering;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// Spectre.Console's console, set up on first use: its terminal detection costs tens of milliseconds at startup, which
/// commands that print no table (a merge with redirected output) should not pay. Where output is redirected, tables
/// are laid out 160 characters wide so their columns stay readable in logs and CI.
/// </summary>
internal static class Terminal
{
    private static readonly Lazy<IAnsiConsole> Instance = new(() =>
    {
        if (System.Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
        return AnsiConsole.Console;
    });

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
