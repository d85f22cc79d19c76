using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Cli.Reports;
using MLNetMerge.Cli.Zoo;
using Spectre.Console;
using MLNetMerge.Encoders;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge demo</c>: the main job on the bundled zoos (<c>data/zoo/vision</c>, then <c>data/zoo/text</c>). Every
/// recipe of each zoo's <c>recipes/</c> is merged, its hyperparameters selected on validation, and evaluated on test
/// (Current and KNN protocols, base and individual bounds) in the seeds' table layout; a summary table per family and
/// the weight diagnostics follow, and <c>report.json</c> collects every recipe of every family (a list of per-recipe
/// entries, each with its <c>family</c>). Without a zoo it stops with an error naming where it looked.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "Where merges and report.json go.", DefaultValueFactory = _ => Path.Combine("out", "demo") };
        var zoo = new Option<string?>("--zoo") { Description = "One zoo directory (default: every zoo of data/zoo — vision, text — found from the current directory upwards)." };
        var familyOption = new Option<string?>("--family") { Description = "One family of data/zoo by name (vision, text, or minilm once `mlnetmerge zoo build minilm` has built its checkpoints)." };
        var cmd = new Command("demo", "Merge the bundled zoo with every method, select on validation, evaluate on test, print the tables.");
        cmd.Options.Add(output);
        cmd.Options.Add(zoo);
        cmd.Options.Add(familyOption);
        cmd.SetAction(r =>
        {
            string root = Path.GetFullPath(r.GetValue(output)!);
            if (r.GetValue(zoo) is not null && r.GetValue(familyOption) is not null)
                throw new RecipeException(null, "--zoo and --family both name the zoo to run; give one.");
            string? given = r.GetValue(zoo) ?? (r.GetValue(familyOption) is { } name ? FamilyZoo(name) : null);
            var zoos = (given is not null ? [given] : FindZoos()).Where(z => Directory.Exists(Path.Combine(z, "recipes"))).ToList();
            if (given is not null && zoos.Count == 0)
                throw new RecipeException(given, "is not a zoo with recipes (expected manifest.json and a recipes/ folder).");
            if (zoos.Count == 0)
                throw new RecipeException(null, "no zoo found: run the demo inside a clone of the repository (data/zoo/vision, data/zoo/text) or pass --zoo DIR.");
            // Refused before anything runs: a report.json or report.html there that MLNetMerge did not write.
            if (File.Exists(root)) throw new UnsafeOverwriteException(root, "is a file; the demo writes its reports into a folder there.");
            RecipeInputs.CheckReport(Path.Combine(root, "report.json"));
            HtmlReport.CheckOwn(Path.Combine(root, "report.html"));
            var json = new List<Dictionary<string, object>>();
            foreach (var dir in zoos) json.AddRange(OnZoo(Path.GetFullPath(dir)));
            // Created only now: a run stopped before its report leaves no folder behind.
            Directory.CreateDirectory(root);
            string report = Path.Combine(root, "report.json");
            RunReport.Write(report, json);
            Console.WriteLine($"report: {report}");
            Console.WriteLine($"report: {HtmlReport.Write(report)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The zoos the demo runs, in order: <c>data/zoo/vision</c> and <c>data/zoo/text</c> of the first folder
    /// (from the current directory, then the binaries, upwards) that has a <c>data/zoo</c>.</summary>
    private static List<string> FindZoos()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var found = new[] { "vision", "text" }.Select(f => Path.Combine(dir.FullName, "data", "zoo", f)).Where(Directory.Exists).ToList();
                if (found.Count > 0) return found;
            }
        return [];
    }

    /// <summary>The <c>data/zoo/NAME</c> folder of a family, checked to hold recipes whose checkpoints exist (the MiniLM
    /// family keeps its checkpoints out of git, under <c>out/zoo/minilm</c>, until <c>zoo build minilm</c> writes them).</summary>
    private static string FamilyZoo(string name)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
                if (!Directory.Exists(Path.Combine(candidate, "recipes"))) continue;
                string first = Directory.GetFiles(Path.Combine(candidate, "recipes"), "*.yaml").Order(StringComparer.Ordinal).First();
                var recipe = MergeRecipe.Load(first);
                if (!File.Exists(recipe.Base))
                    throw new RecipeException(first, $"the {name} family is not built: {recipe.Base} is missing; run `mlnetmerge zoo build {name}` first.");
                return candidate;
            }
        throw new RecipeException(null, $"no family '{name}': data/zoo/{name}/recipes was not found from the current directory upwards.");
    }

    /// <summary>Runs every recipe of one zoo, prints its tables, and returns the recipes' report entries.</summary>
    private static List<Dictionary<string, object>> OnZoo(string zooDir)
    {
        var results = new List<(MergeRecipe Recipe, RecipeEvaluation Eval, MergeParameters Parameters, IReadOnlyList<TaskDiagnostics> Diagnostics)>();
        var bounds = new RecipeBoundsCache(); // the base and individual rows are the same for every recipe of a zoo
        foreach (var path in Directory.GetFiles(Path.Combine(zooDir, "recipes"), "*.yaml").OrderBy(p => p, StringComparer.Ordinal))
        {
            var recipe = MergeRecipe.Load(path);
            Console.WriteLine($"== {Path.GetFileName(zooDir)}: {recipe.Method} ({Path.GetFileName(path)})");
            var run = RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.Sweep | RecipeSteps.Evaluate, Bounds = bounds, Log = Console.WriteLine, CancellationToken = Interrupts.Token });
            var eval = run.Evaluation!;
            ResultTables.Print(eval);
            using var family = recipe.OpenFamily();
            var parameters = recipe.WithParameters(run.Chosen).ResolveParameters();
            results.Add((recipe, eval, parameters, MergeDiagnostics.Compute(family, parameters.Method, parameters, new MergeExecutionOptions { Seed = recipe.Seed })));
        }
        string familyName = results.Count > 0 ? results[0].Eval.Family : Path.GetFileName(zooDir);
        var table = new Table { Title = new TableTitle($"{familyName} zoo — test accuracy (Avg over tasks) and weight diagnostics") };
        table.AddColumns("method", "selected", "Current Avg %", "Current Norm %", "KNN Avg %", "KNN Norm %", "sign conflicts", "cosine(τ̂, τ)");
        foreach (var (recipe, e, _, d) in results)
        {
            // Recipes of one method with other fixed settings (lines.yaml, lines_ties.yaml) are told apart by their file name.
            string name = RecipeRunner.RecipeName(recipe);
            string label = name == e.Method ? e.Method : $"{name} ({e.Method})";
            string Cell(string protocol, bool norm) => e.Protocols.Contains(protocol)
                ? (100 * (norm ? e.Merged.Normalized(protocol, e.Individual) : e.Merged.Average(protocol))).ToString("F1", CultureInfo.InvariantCulture) : "–";
            string knn = e.Protocols.FirstOrDefault(p => p.StartsWith("knn", StringComparison.Ordinal)) ?? "knn";
            table.AddRow(Markup.Escape(label), Markup.Escape(e.Merged.Hyperparameters.Count > 0 ? SweepSection.Describe(e.Merged.Hyperparameters) : "—"),
                Cell("current", false), Cell("current", true), Cell(knn, false), Cell(knn, true),
                d.Average(x => x.SignConflictShare).ToString("P1", CultureInfo.InvariantCulture), d.Average(x => x.Cosine).ToString("F3", CultureInfo.InvariantCulture));
        }
        if (results.Count > 0)
        {
            var first = results[0].Eval;
            string knn = first.Protocols.FirstOrDefault(p => p.StartsWith("knn", StringComparison.Ordinal)) ?? "";
            string Knn(ModelEvaluation row, bool norm) => knn.Length == 0 ? "" : Pct(norm ? row.Normalized(knn, first.Individual) : row.Average(knn));
            table.AddRow("individual", "", Pct(first.Individual.Average("current")), "100.0", Knn(first.Individual, false), Knn(first.Individual, true), "", "");
            table.AddRow("base", "", Pct(first.Base.Average("current")), Pct(first.Base.Normalized("current", first.Individual)), Knn(first.Base, false), Knn(first.Base, true), "", "");
        }
        Terminal.Write(table);
        var json = results.Select(x => RunReport.Entry(x.Eval, RecipeRunner.RecipeName(x.Recipe), null)).ToList();
        for (int i = 0; i < results.Count; i++)
            HtmlReport.MethodRow(json[i], results[i].Eval.Method)["diagnostics"] = HtmlReport.DiagnosticsJson(results[i].Diagnostics);
        AddTsne(json, results.Select(x => x.Eval).ToList(), results.Select(x => (x.Recipe, x.Parameters)).ToList());
        return json;
    }

    /// <summary>The report's t-SNE figure: TIES (else the first method) against the fine-tuned model on task fashion (else the first task).</summary>
    private static void AddTsne(List<Dictionary<string, object>> json, List<RecipeEvaluation> evals, List<(MergeRecipe Recipe, MergeParameters Parameters)> recipes)
    {
        int i = Math.Max(0, evals.FindIndex(e => e.Method == "ties"));
        if (evals.Count == 0) return;
        string task = evals[i].Tasks.Contains("fashion") ? "fashion" : evals[i].Tasks[0];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        HtmlReport.MethodRow(json[i], evals[i].Method)["tsne"] = EmbeddingProjection.Compute(recipes[i].Recipe, recipes[i].Parameters, task, new TsneOptions { Seed = 0 }, maxPoints: 500);
        Console.WriteLine($"t-SNE of {evals[i].Method} versus fine-tuned on {task}: {watch.Elapsed.TotalSeconds:F1} s");
    }

    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);
}
