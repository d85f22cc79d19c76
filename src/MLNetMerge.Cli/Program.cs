using System.CommandLine;
using MLNetMerge.Cli.Commands;

namespace MLNetMerge.Cli;

/// <summary>Entry point of the <c>mlnetmerge</c> command.</summary>
public static class Program
{
    /// <summary>The command's name as installed (<c>dotnet tool install MLNetMerge.Cli</c>, ToolCommandName): help shows it
    /// instead of the assembly's name, MLNetMerge.Cli, which System.CommandLine's RootCommand would take.</summary>
    public const string CommandName = "mlnetmerge";

    /// <summary>Builds the command tree: a root named <see cref="CommandName"/> with RootCommand's --help and --version.</summary>
    public static Command BuildRoot()
    {
        var root = new Command(CommandName, "MLNetMerge: merge fine-tuned checkpoints (task arithmetic, TIES, DARE, EMR, CART, ...) from YAML recipes.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
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

    /// <summary>
    /// Runs the command line. Every failure is one line on standard error (<see cref="ExitCodes"/>): 2 for bad input
    /// (a malformed command line, typed input errors naming the file and tensor, missing or unreadable files), 1 for an
    /// internal error, 130/143 when SIGINT/SIGTERM stopped the run (its temporary output removed).
    /// </summary>
    public static int Main(string[] args)
    {
        // Spectre.Console is set up on first use (Terminal), so commands that print no table skip its terminal detection.
        using var interrupts = Interrupts.Install();
        try
        {
            return Run(args);
        }
        finally
        {
            Interrupts.Finished();
        }
    }

    private static int Run(string[] args)
    {
        try
        {
            // No response files: a path that starts with '@' is a path ('@base.safetensors' was read as a file of arguments).
            var parsed = BuildRoot().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (CommandLineErrors.Describe(parsed) is { } usage)
            {
                Console.Error.WriteLine($"error: {usage}");
                return ExitCodes.BadInput;
            }
            int code = parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
            // A signal that came after the last step that observes it (a report being rendered) still ends the run as a
            // stopped one: its exit code and line, which name what was written.
            if (code == 0 && Interrupts.Signal is { } signal)
            {
                Console.Error.WriteLine(Interrupts.Message(signal));
                return Interrupts.ExitCode(signal);
            }
            return code;
        }
        catch (Exception e)
        {
            var (code, line) = ExitCodes.Of(e, Interrupts.Signal);
            Console.Error.WriteLine(line);
            if (code == ExitCodes.InternalError && Environment.GetEnvironmentVariable("MLNETMERGE_DEBUG") is "1" or "true")
                Console.Error.WriteLine(e);
            return code;
        }
    }
}
