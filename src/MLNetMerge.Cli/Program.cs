using System.CommandLine;
using MLNetMerge.Cli.Commands;
using MLNetMerge.Errors;

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
        root.Subcommands.Add(AlignCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        return root;
    }

    /// <summary>Runs the command line; typed input errors and file errors print one line and exit 2.</summary>
    public static int Main(string[] args)
    {
        // Spectre.Console is set up on first use (Terminal), so commands that print no table skip its terminal detection.
        try
        {
            return BuildRoot().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is MergeException or IOException or UnauthorizedAccessException)
        {
            // Bad input (typed errors name the file and tensor) and missing or unreadable files: one line, exit 2.
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
