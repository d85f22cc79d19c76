using System.Globalization;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Zoo;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Encoders;

namespace MLNetMerge.Evaluation;

/// <summary>The recipe's <c>evaluate:</c> section (all keys optional).</summary>
/// <param name="Zoo">Zoo folder with <c>manifest.json</c> (default: the folder of the base checkpoint).</param>
/// <param name="Protocols">Protocols: <c>current</c>, <c>knn</c> (default both), <c>ft_classifier</c> (FT-Classifier Eval,
/// one protocol <c>ftc{k}</c> per k of <see cref="FtcShots"/>).</param>
/// <param name="Shots">KNN anchors per class (default 5).</param>
/// <param name="Seeds">KNN seeds (default 5).</param>
/// <param name="Report">Where <c>report.json</c> goes (default: the recipe's output folder, else <c>out/evaluate/&lt;recipe name&gt;/</c>).</param>
public sealed record EvaluateSection(string? Zoo, IReadOnlyList<string> Protocols, int Shots, int Seeds, string? Report)
{
    /// <summary>Shots per class of FT-Classifier Eval (key <c>ftc_shots</c>, default 1, 5, 10, 20).</summary>
    public IReadOnlyList<int> FtcShots { get; init; } = FtClassifierEvalProtocol.DefaultShots;
}

/// <summary>What <see cref="RecipeEvaluator.Evaluate(MergeRecipe, Action{string}?, Action{RecipeMergeScope}?, RecipeBoundsCache?, IProgress{MergeProgress}?, CancellationToken)"/> hands to a
/// caller that continues from the selected merge (alignment stages) while the family is still open.</summary>
/// <param name="Recipe">The recipe.</param>
/// <param name="ZooDirectory">The zoo folder.</param>
/// <param name="Manifest">The zoo's manifest.</param>
/// <param name="Family">The family (disposed after the callback returns).</param>
/// <param name="Merged">The selected merge (the sweep's best point on validation, or the recipe's parameters).</param>
/// <param name="Tasks">The tasks with heads and splits.</param>
/// <param name="Evaluation">The merge's evaluation (bounds and protocols).</param>
public sealed record RecipeMergeScope(MergeRecipe Recipe, string ZooDirectory, VisionZooManifest Manifest, ModelFamily Family,
    MergedModel Merged, IReadOnlyList<EvaluationTask> Tasks, RecipeEvaluation Evaluation);

/// <summary>One point of a sweep and its mean validation accuracy (Current protocol).</summary>
/// <param name="Parameters">Parameter name → value.</param>
/// <param name="ValidationAccuracy">Mean over tasks of the validation accuracy.</param>
public sealed record SweepPoint(IReadOnlyDictionary<string, double> Parameters, double ValidationAccuracy);

/// <summary>Everything <c>mlnetmerge evaluate</c> reports.</summary>
/// <param name="Family">Zoo name (or base path).</param>
/// <param name="Method">Method name.</param>
/// <param name="Tasks">Task names in order.</param>
/// <param name="Protocols">Protocol names in order.</param>
/// <param name="Merged">The merged model's row (hyperparameters = the selected sweep point, if any).</param>
/// <param name="Individual">Upper bound: each fine-tuned model on its own task.</param>
/// <param name="Base">Lower bound: the base encoder with each task's head.</param>
/// <param name="Sweep">Every sweep point, in grid order (empty without a sweep).</param>
public sealed record RecipeEvaluation(string Family, string Method, IReadOnlyList<string> Tasks, IReadOnlyList<string> Protocols,
    ModelEvaluation Merged, ModelEvaluation Individual, ModelEvaluation Base, IReadOnlyList<SweepPoint> Sweep);

/// <summary>
/// Runs a recipe's merge in memory and evaluates it on the zoo's tasks: bounds (individual, base), the merged model
/// under every protocol on test, and, with a <c>sweep:</c> section (<c>parameter: [values…]</c>, a full grid), the
/// grid point with the best mean validation accuracy (Current protocol) — selection never sees test.
/// </summary>
public static class RecipeEvaluator
{
    /// <summary>Reads the <c>evaluate:</c> section.</summary>
    /// <exception cref="RecipeException">A key is unknown or a value is malformed.</exception>
    public static EvaluateSection ReadEvaluateSection(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        string? zoo = null, report = null;
        var protocols = new List<string> { "current", "knn" };
        int shots = 5, seeds = 5;
        IReadOnlyList<int> ftcShots = FtClassifierEvalProtocol.DefaultShots;
        if (recipe.Sections.TryGetValue("evaluate", out var node) && node is YamlMappingNode map)
        {
            foreach (var (k, v) in map.Children)
            {
                string key = ((YamlScalarNode)k).Value ?? "";
                switch (key)
                {
                    case "zoo": zoo = Resolve(recipe, Scalar(v, recipe, key)); break;
                    case "report": report = Resolve(recipe, Scalar(v, recipe, key)); break;
                    case "shots": shots = Int(v, recipe, key); break;
                    case "seeds": seeds = Int(v, recipe, key); break;
                    case "ftc_shots":
                        ftcShots = v is YamlSequenceNode fs ? fs.Children.Select(c => Int(c, recipe, key)).ToList() : [Int(v, recipe, key)];
                        break;
                    case "protocols":
                        protocols = v is YamlSequenceNode seq ? seq.Children.Select(c => Scalar(c, recipe, key)).ToList() : [Scalar(v, recipe, key)];
                        foreach (var p in protocols)
                            if (p is not ("current" or "knn" or "ft_classifier")) throw new RecipeException(recipe.Source, $"evaluate.protocols: unknown protocol '{p}'; expected current, knn or ft_classifier.");
                        break;
                    default: throw new RecipeException(recipe.Source, $"evaluate: unknown key '{key}'; expected zoo, protocols, shots, seeds, ftc_shots or report.");
                }
            }
        }
        return new EvaluateSection(zoo, protocols, shots, seeds, report) { FtcShots = ftcShots };
    }

    /// <summary>Reads the <c>sweep:</c> section as a grid (parameter → values), or an empty grid.</summary>
    public static IReadOnlyList<(string Name, IReadOnlyList<double> Values)> ReadSweep(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var grid = new List<(string, IReadOnlyList<double>)>();
        if (!recipe.Sections.TryGetValue("sweep", out var node)) return grid;
        if (node is not YamlMappingNode map) throw new RecipeException(recipe.Source, "sweep: expected a mapping of parameter names to lists of values.");
        foreach (var (k, v) in map.Children)
        {
            string key = ((YamlScalarNode)k).Value ?? "";
            if (v is not YamlSequenceNode seq || seq.Children.Count == 0) throw new RecipeException(recipe.Source, $"sweep.{key}: expected a non-empty list of numbers.");
            grid.Add((key, seq.Children.Select(c => Number(c, recipe, "sweep." + key)).ToList()));
        }
        return grid;
    }

    /// <summary>Every combination of a grid, first parameter varying slowest.</summary>
    public static List<Dictionary<string, double>> Combinations(IReadOnlyList<(string Name, IReadOnlyList<double> Values)> grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var result = new List<Dictionary<string, double>> { new(StringComparer.Ordinal) };
        foreach (var (name, values) in grid)
            result = result.SelectMany(r => values.Select(v => new Dictionary<string, double>(r, StringComparer.Ordinal) { [name] = v })).ToList();
        return result;
    }

    /// <summary>Evaluates a recipe (merge in memory, sweep on validation, bounds and protocols on test).</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="withMerged">Called with the selected merge before the family is closed (alignment runners continue from it).</param>
    /// <param name="bounds">Bounds of recipes evaluated before (the same zoo, checkpoints and protocols give the same base and
    /// individual rows); null computes them.</param>
    /// <param name="progress">Merge passes and per-task evaluation.</param>
    /// <param name="cancellationToken">Checked between merges and batches.</param>
    /// <exception cref="RecipeException">The zoo has no task of a recipe model's name, or the sections are malformed.</exception>
    public static RecipeEvaluation Evaluate(MergeRecipe recipe, Action<string>? log = null, Action<RecipeMergeScope>? withMerged = null,
        RecipeBoundsCache? bounds = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        log ??= _ => { };
        var section = ReadEvaluateSection(recipe);
        string zooDir = section.Zoo ?? Path.GetDirectoryName(Path.GetFullPath(recipe.Base))!;
        var manifest = VisionZooManifest.Load(zooDir);
        using var family = ModelFamily.Load(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)), new ModelFamilyOptions { Heads = recipe.Heads });
        var encoder = family.Session;
        string prefix = encoder.Prefix;
        var tasks = new List<EvaluationTask>();
        foreach (var t in family.Tasks)
        {
            var zt = manifest.Tasks.FirstOrDefault(z => z.Name == t.Name)
                ?? throw new RecipeException(recipe.Source, $"model '{t.Name}' has no task of that name in {Path.Combine(zooDir, VisionZooManifest.FileName)} (tasks: {string.Join(", ", manifest.Tasks.Select(z => z.Name))}).");
            var head = family.Head(t.Name);
            if (head.ClassCount != zt.Classes.Count)
                throw new CheckpointFormatException(t.Reader.Path, TaskHead.WeightName, $"has {head.ClassCount} classes; task '{t.Name}' of the zoo has {zt.Classes.Count}.");
            tasks.Add(new EvaluationTask(t.Name, head, VisionZooManifest.LoadSplit(zooDir, zt, zt.Validation), VisionZooManifest.LoadSplit(zooDir, zt, zt.Test)));
        }
        var baseWeights = encoder.ReadWeights(family.Base);
        var taskWeights = family.Tasks.ToDictionary(t => t.Name, t => encoder.ReadWeights(t.Reader), StringComparer.Ordinal);
        var protocols = BuildProtocols(section, encoder, tasks, taskWeights);
        string boundsKey = RecipeBoundsCache.Key(recipe, section, zooDir);
        if (bounds is null || !bounds.TryGet(boundsKey, out var baseRow, out var individual))
        {
            baseRow = ModelEvaluator.Evaluate("base", encoder, _ => n => baseWeights[n], tasks, protocols, progress: progress, cancellationToken: cancellationToken);
            individual = ModelEvaluator.Evaluate("individual", encoder, task => n => taskWeights[task][n], tasks, protocols, progress: progress, cancellationToken: cancellationToken);
            bounds?.Add(boundsKey, baseRow, individual);
        }
        log($"bounds: base {baseRow.Average(protocols[0].Name):P1}, individual {individual.Average(protocols[0].Name):P1} ({protocols[0].Name})");

        var resolved = recipe.ResolveParameters();
        var method = resolved.Method;
        var exec = new MergeExecutionOptions { Seed = recipe.Seed };
        var grid = ReadSweep(recipe);
        var points = new List<SweepPoint>();
        Dictionary<string, double> chosen = new(StringComparer.Ordinal);
        if (grid.Count > 0)
        {
            var current = new[] { (EvaluationProtocol)new CurrentProtocol() };
            foreach (var combo in Combinations(grid))
            {
                var merged = MergeExecutor.RunInMemory(family, method, WithOverrides(recipe, method, combo), exec, progress, cancellationToken);
                var row = ModelEvaluator.Evaluate(method.Name, encoder, task => n => merged.TensorFor(task, prefix + n), tasks, current, onValidation: true, progress: progress, cancellationToken: cancellationToken);
                points.Add(new SweepPoint(combo, row.Average("current")));
                log($"sweep {Describe(combo)}: validation {points[^1].ValidationAccuracy:P2}");
            }
            chosen = new Dictionary<string, double>(points.MaxBy(p => p.ValidationAccuracy)!.Parameters, StringComparer.Ordinal); // first best on ties
        }
        var final = MergeExecutor.RunInMemory(family, method, grid.Count > 0 ? WithOverrides(recipe, method, chosen) : resolved, exec, progress, cancellationToken);
        var mergedRow = ModelEvaluator.Evaluate(method.Name, encoder, task => n => final.TensorFor(task, prefix + n), tasks, protocols, hyperparameters: chosen, progress: progress, cancellationToken: cancellationToken);
        var evaluation = new RecipeEvaluation(manifest.Name, method.Name, tasks.Select(t => t.Name).ToList(), protocols.Select(p => p.Name).ToList(),
            mergedRow, individual, baseRow, points);
        withMerged?.Invoke(new RecipeMergeScope(recipe, zooDir, manifest, family, final, tasks, evaluation));
        return evaluation;
    }

    /// <summary>The section's protocols; <c>ft_classifier</c> becomes one FT-Classifier Eval per k, taught by each task's
    /// fine-tuned model (its logits on the validation pool).</summary>
    private static List<EvaluationProtocol> BuildProtocols(EvaluateSection section, Encoders.EncoderSession encoder, IReadOnlyList<EvaluationTask> tasks,
        IReadOnlyDictionary<string, Dictionary<string, float[]>> taskWeights)
    {
        var result = new List<EvaluationProtocol>();
        foreach (var p in section.Protocols)
        {
            switch (p)
            {
                case "current": result.Add(new CurrentProtocol()); break;
                case "knn": result.Add(new KnnProtocol(section.Shots, section.Seeds)); break;
                default:
                    var teachers = new Dictionary<string, float[]>(StringComparer.Ordinal);
                    foreach (var t in tasks)
                    {
                        teachers[t.Name] = t.Head.Logits(encoder.Embed(n => taskWeights[t.Name][n], t.Validation), t.Validation.Count);
                    }
                    foreach (int k in section.FtcShots) result.Add(new FtClassifierEvalProtocol(k, section.Seeds, teachers));
                    break;
            }
        }
        return result;
    }

    /// <summary>Writes a sweep point as <c>scale=0.3, keep=0.2</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, double> parameters) =>
        string.Join(", ", parameters.Select(kv => $"{kv.Key}={kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    private static MergeParameters WithOverrides(MergeRecipe recipe, MergeMethod method, IReadOnlyDictionary<string, double> values)
    {
        var global = new Dictionary<string, ParameterValue>(recipe.Parameters);
        foreach (var (k, v) in recipe.ImpliedParameters)
            if (!global.ContainsKey(k)) global[k] = new ParameterValue.Text(v);
        foreach (var (k, v) in values) global[k] = new ParameterValue.Scalar(v);
        return new MergeParameters(method, global, recipe.Models.Select(m => m.Parameters).ToList(), recipe.Source);
    }

    private static string Resolve(MergeRecipe recipe, string path) =>
        Path.IsPathRooted(path) || recipe.Source is null ? path : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipe.Source))!, path);

    private static string Scalar(YamlNode v, MergeRecipe recipe, string key) =>
        v is YamlScalarNode s && s.Value is not null ? s.Value : throw new RecipeException(recipe.Source, $"evaluate.{key}: expected a single value.");

    private static int Int(YamlNode v, MergeRecipe recipe, string key) =>
        int.TryParse(Scalar(v, recipe, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i > 0 ? i
            : throw new RecipeException(recipe.Source, $"evaluate.{key}: expected a positive integer.");

    private static double Number(YamlNode v, MergeRecipe recipe, string key) =>
        v is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
            : throw new RecipeException(recipe.Source, $"{key}: expected numbers.");
}
