using System.CommandLine;
using MLNetMerge.Cli.Commands;

namespace MLNetMerge.Cli;

/// <summary>Entry point of the <c>mlnetmerge</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("MLNetMerge: merge fine-tuned checkpoints (task arithmetic, TIES, DARE, EMR, CART, ...) from YAML recipes.");
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(DiagnoseCommand.Create());
        root.Subcommands.Add(MethodsCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ZooCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        return root;
    }

    /// <summary>Runs the command line; typed input errors print one line and exit 2.</summary>
    public static int Main(string[] args)
    {
        // Tables keep their columns readable in logs and CI, where there is no terminal to measure.
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;
        try
        {
            return BuildRoot().Parse(args).Invoke();
        }
        catch (MergeException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
