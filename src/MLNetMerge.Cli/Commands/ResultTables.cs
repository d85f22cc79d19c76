using System.Globalization;
using MLNetMerge.Evaluation;
using MLNetMerge.Recipes;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary>The seeds' table layout on the console: a table per protocol (tasks as columns, Avg, normalised), then the
/// alignment rows, for every command that evaluates.</summary>
internal static class ResultTables
{
    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    private static string Cell(ProtocolResult r) => r.Runs.Count > 1 ? $"{Pct(r.Accuracy)}±{Pct(r.AccuracyStd)}" : Pct(r.Accuracy);

    /// <summary>Prints the evaluation: a table per protocol, then the alignment table when stages ran.</summary>
    public static void Print(RecipeEvaluation e)
    {
        Terminal.AtLeastWhenRedirected(200); // keep rows on one line in logs
        foreach (var protocol in e.Protocols)
        {
            var table = new Table { Title = new TableTitle($"{Markup.Escape(e.Family)} — {protocol} eval (test accuracy %, normalised = merged / individual)") };
            table.AddColumn("model");
            foreach (var t in e.Tasks) table.AddColumn(new TableColumn(Markup.Escape(t)).RightAligned());
            table.AddColumn(new TableColumn("Avg").RightAligned());
            table.AddColumn(new TableColumn("Norm").RightAligned());
            foreach (var row in new[] { e.Base, e.Individual, e.Merged })
            {
                var cells = new List<string> { Markup.Escape(row.Name) };
                foreach (var t in e.Tasks) cells.Add(Cell(row.Results[protocol][t]));
                cells.Add(Pct(row.Average(protocol)));
                cells.Add(Pct(row.Normalized(protocol, e.Individual)));
                table.AddRow(cells.ToArray());
            }
            Terminal.Write(table);
        }
        if (e.Merged.Hyperparameters.Count > 0) Console.WriteLine($"selected on validation: {SweepSection.Describe(e.Merged.Hyperparameters)}");
        Console.WriteLine($"data used by {e.Method}: none (data-free merge); hyperparameters {(e.Sweep.Count > 0 ? "selected on the labeled validation split" : "from the recipe")}{(e.Protocols.Any(p => p.StartsWith("knn", StringComparison.Ordinal)) ? "; KNN anchors drawn from the validation split" : "")}.");
        if (e.Alignment.Count > 0) PrintAlignment(e);
    }

    /// <summary>The alignment table: the individual models and the merge under Current Eval, then a row per stage (mean±std
    /// over seeds; * = transductive), and a line per stage with its data, fits, ECE and (Tinting) coefficient sparsity.</summary>
    private static void PrintAlignment(RecipeEvaluation e)
    {
        var table = new Table { Title = new TableTitle($"{Markup.Escape(e.Family)} — alignment stages after {Markup.Escape(e.Method)} (test accuracy %, normalised = aligned / individual; * = transductive)") };
        table.AddColumn("model");
        foreach (var t in e.Tasks) table.AddColumn(new TableColumn(Markup.Escape(t)).RightAligned());
        table.AddColumn(new TableColumn("Avg").RightAligned());
        table.AddColumn(new TableColumn("Norm").RightAligned());
        var individual = e.Individual.Results["current"];
        void Add(string name, IReadOnlyDictionary<string, ProtocolResult> results, string? avgStd)
        {
            var cells = new List<string> { Markup.Escape(name) };
            foreach (var t in e.Tasks) cells.Add(Cell(results[t]));
            double avg = e.Tasks.Average(t => results[t].Accuracy);
            cells.Add(avgStd is null ? Pct(avg) : $"{Pct(avg)}±{avgStd}");
            cells.Add(Pct(ModelEvaluation.NormalizedAccuracy(e.Tasks.Select(t => results[t].Accuracy).ToArray(), e.Tasks.Select(t => individual[t].Accuracy).ToArray())));
            table.AddRow(cells.ToArray());
        }
        Add("individual (current)", individual, null);
        Add($"{e.Method} (current)", e.Merged.Results["current"], null);
        foreach (var row in e.Alignment)
        {
            var results = row.Evaluation.Results[RecipeEvaluation.AlignedProtocol];
            Add(row.Name + (row.Transductive ? " *" : ""), results, row.Models.Count > 1 ? Pct(RunReport.AverageStd(results, e.Tasks)) : null);
        }
        Terminal.Write(table);
        foreach (var row in e.Alignment)
        {
            var results = row.Evaluation.Results[RecipeEvaluation.AlignedProtocol];
            string extra = $"ECE {Pct(RunReport.AverageEce(results, e.Tasks))} %";
            if (RunReport.CoefficientSparsity(row) is { } sparsity) extra += $", coefficients below 1e-5: {Pct(sparsity)} %";
            Console.WriteLine($"{row.Name}: {row.Data}; {row.Models.Count} fit(s); {extra}.");
        }
    }
}
