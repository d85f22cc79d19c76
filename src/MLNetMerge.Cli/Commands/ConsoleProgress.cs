using MLNetMerge.Merging;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary>Runs work under Spectre.Console progress bars, one bar per stage reported through <see cref="MergeProgress"/>.</summary>
internal static class ConsoleProgress
{
    public static T Run<T>(string title, Func<IProgress<MergeProgress>, T> work)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected)
        {
            var plain = new PlainProgress(title);
            return work(plain);
        }
        T result = default!;
        Terminal.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var gate = new object();
                var progress = new Callback(p =>
                {
                    lock (gate)
                    {
                        if (!bars.TryGetValue(p.Stage, out var bar))
                            bars[p.Stage] = bar = ctx.AddTask($"{title}: {p.Stage}", maxValue: Math.Max(1, p.Total));
                        bar.Value = p.Completed;
                        if (p.Loss is { } loss) bar.Description = $"{title}: {p.Stage} loss {loss:F4}";
                    }
                });
                result = work(progress);
            });
        return result;
    }

    private sealed class Callback(Action<MergeProgress> action) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => action(value);
    }

    /// <summary>Without a terminal: one line per finished stage.</summary>
    private sealed class PlainProgress(string title) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value)
        {
            if (value.Completed == value.Total)
                Console.Error.WriteLine($"{title}: {value.Stage} {value.Completed}/{value.Total}" + (value.Loss is { } loss ? $" loss {loss:F4}" : ""));
        }
    }
}
