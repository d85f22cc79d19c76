using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;

namespace MLNetMerge.Recipes;

/// <summary>
/// What a recipe run reads and where it writes, checked before anything runs: no output (the merge folder, the ONNX
/// folder, <c>report.json</c>) may be or hold one of the run's inputs — the base, the models, the recipe file, the
/// encoder's <c>config.json</c>, the zoo — and no output may hold another; <c>report.json</c> replaces only an earlier
/// MLNetMerge report.
/// </summary>
internal static class RecipeInputs
{
    /// <summary>The files and folders a run of <paramref name="recipe"/> reads (full paths).</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="zoo">The evaluation zoo, when the run reads task data.</param>
    /// <param name="alignZoo">The alignment data's zoo, when it has its own.</param>
    public static List<string> Of(MergeRecipe recipe, string? zoo, string? alignZoo)
    {
        var inputs = new List<string> { recipe.Base };
        inputs.AddRange(recipe.Models.Select(m => m.Path));
        if (recipe.Source is { } source && File.Exists(source)) inputs.Add(source);
        if (File.Exists(recipe.Base) || Directory.Exists(recipe.Base))
            if (ModelArchitecture.ConfigBeside(recipe.Base) is { } config) inputs.Add(config);
        if (zoo is not null) inputs.Add(zoo);
        if (alignZoo is not null) inputs.Add(alignZoo);
        return inputs.Select(p => Path.GetFullPath(p)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Where the run's <c>report.json</c> goes: the option or the recipe's <c>evaluate.report</c> (a path ending in
    /// <c>.json</c> is the file; any other path is a folder, <c>report.json</c> inside it, beside its <c>report.html</c>),
    /// else the output folder, else <c>out/run/&lt;recipe name&gt;/</c>.</summary>
    public static string ReportPath(MergeRecipe recipe, string? report, string? output)
    {
        if (report is null) return Path.GetFullPath(Path.Combine(output ?? Path.Combine("out", "run", RecipeRunner.RecipeName(recipe)), "report.json"));
        if (Directory.Exists(report) || !report.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return Path.GetFullPath(Path.Combine(report, "report.json"));
        return Path.GetFullPath(report);
    }

    /// <summary>Refuses, before anything runs, outputs that are or hold an input, outputs inside one another (other than
    /// the ONNX or report files inside the merge output), output folders that exist (without <paramref name="overwrite"/>)
    /// or that are links or not earlier MLNetMerge outputs, and a <c>report.json</c> that another program wrote — so a run
    /// that would fail at its last step (the export) fails before it writes anything.</summary>
    /// <exception cref="OutputExistsException">The output or export folder exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">An output would replace an input or something MLNetMerge did not write.</exception>
    public static void CheckOutputs(MergeRecipe recipe, IReadOnlyList<string> inputs, string? output, string? onnx, string? report, bool overwrite)
    {
        string? outputFull = output is null ? null : OutputGuard.OutputFolder(output);
        if (outputFull is not null) OutputGuard.CheckWritable(outputFull, overwrite, inputs);
        if (onnx is not null)
        {
            string onnxFull = OutputGuard.OutputFolder(onnx);
            OutputGuard.CheckWritable(onnxFull, overwrite, outputFull is null ? inputs : [.. inputs, outputFull]);
        }
        if (report is not null)
        {
            foreach (var input in inputs)
                if (Path.GetFullPath(input) == report)
                    throw new UnsafeOverwriteException(report, $"is an input of this run ({recipe.Source ?? "the recipe"}); choose another report path.");
            CheckReport(report);
        }
    }

    /// <summary>Refuses, before the merge runs, few-shot protocols that ask for more labeled anchors per class than a task's
    /// validation split holds (KNN's <c>shots</c>, FT-Classifier Eval's <c>ftc_shots</c>; both draw from validation).</summary>
    /// <exception cref="RecipeException">A task's smallest class has fewer validation examples than asked for.</exception>
    public static void CheckShots(EvaluateSection evaluation, TaskSuite suite, string? source)
    {
        var asked = new List<(string Key, int Shots)>();
        if (evaluation.Protocols.Contains("knn")) asked.Add(("evaluate.shots", evaluation.Shots));
        if (evaluation.Protocols.Contains("ft_classifier")) asked.AddRange(evaluation.FtcShots.Select(k => ("evaluate.ftc_shots", k)));
        if (asked.Count == 0) return;
        foreach (var task in suite.Tasks)
        {
            if (task.Validation.Labels is null) continue;
            var counts = task.Validation.ClassCounts();
            int smallest = counts.Min();
            int c = Array.IndexOf(counts, smallest);
            foreach (var (key, shots) in asked)
                if (shots > smallest)
                    throw new RecipeException(source,
                        $"{key}: {shots} labeled anchors per class, but task '{task.Name}' has {smallest} validation example(s) of class {c} ('{task.Validation.ClassNames[c]}'); the anchors come from the validation split, so ask for at most {smallest}.");
        }
    }

    /// <summary>Refuses a report path that is a folder or a file other than an MLNetMerge <c>report.json</c>.</summary>
    /// <exception cref="UnsafeOverwriteException">The path holds something MLNetMerge did not write.</exception>
    public static void CheckReport(string report)
    {
        if (Directory.Exists(report))
            throw new UnsafeOverwriteException(report, "is a folder; the report path names the report.json file to write.");
        OutputGuard.CheckCanCreate(report); // a file in the way or a folder that takes no entry: refused before the work
        if (!File.Exists(report)) return;
        string? format = OutputGuard.ManifestFormat(report);
        if (format != RunReport.FormatName)
            throw new UnsafeOverwriteException(report,
                $"exists and is not an MLNetMerge report ({(format is null ? "no 'format' field" : $"format '{format}'")}); it is replaced only when it is one: choose another report path.");
    }
}
