using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests;

/// <summary>
/// The engine calls behind <c>mlContext.Merging()</c>, for tests of engine internals on families the tests build in
/// memory: a merge described by a public Options class (what <see cref="MergeEstimator"/> runs), an alignment stage's
/// engine estimator (what <see cref="AlignmentStage"/> creates), what a merge and its stage predict for a task (what the
/// exported graphs compute), and the recipe runner's on-disk format.
/// </summary>
internal static class EngineRuns
{
    /// <summary>Merges <paramref name="family"/> as <c>ml.Merging().Merge(family, options)</c> does, seeded by
    /// <paramref name="seed"/> (the options' seed when set).</summary>
    public static MergedModel Merge(ModelFamily family, MergeOptions options, ulong seed = 0,
        IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var method = MergeMethods.Find(options.MethodName).Method;
        var perModel = family.TaskNames.Select(t => options.Weights.TryGetValue(t, out var w)
            ? new Dictionary<string, ParameterValue> { ["weight"] = new ParameterValue.Scalar(w) }
            : (IReadOnlyDictionary<string, ParameterValue>?)null).ToList();
        return MergeExecutor.RunInMemory(family, method, new MergeParameters(method, options.RecipeParameters(), perModel),
            new MergeExecutionOptions { Seed = options.Seed ?? seed }, progress, cancellationToken: cancellationToken);
    }

    /// <summary>Merges with a method by recipe name and recipe-style parameters (per-model parameters by task name).</summary>
    /// <exception cref="RecipeException">An unknown parameter, a bad value, or parameters for a task the family lacks.</exception>
    public static MergedModel Merge(ModelFamily family, string method, IReadOnlyDictionary<string, ParameterValue>? parameters = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>>? modelParameters = null, ulong seed = 0)
    {
        var (m, implied) = MergeMethods.Find(method);
        var p = new Dictionary<string, ParameterValue>(parameters ?? new Dictionary<string, ParameterValue>());
        foreach (var (k, v) in implied) p.TryAdd(k, new ParameterValue.Text(v));
        foreach (var name in (modelParameters ?? new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>()).Keys)
            if (!family.TaskNames.Contains(name))
                throw new RecipeException(null, $"parameters were given for model '{name}', which is not in the family ({string.Join(", ", family.TaskNames)}).");
        var perModel = family.TaskNames.Select(t => modelParameters is not null && modelParameters.TryGetValue(t, out var v) ? v : null).ToList();
        return MergeExecutor.RunInMemory(family, m, new MergeParameters(m, p, perModel), new MergeExecutionOptions { Seed = seed });
    }

    /// <summary>The engine estimator of an alignment stage given by its public options, seeded.</summary>
    /// <exception cref="RecipeException">A setting outside its declared range.</exception>
    public static IAlignmentEstimator Stage(AlignmentOptions options, ulong seed = 0) => new AlignmentStage(options).Create(seed);

    /// <summary>What a merge (and its stage, when it predicts <paramref name="task"/>) computes for the examples of a task:
    /// embeddings (N, E) and class probabilities (N, K) — the <c>Embedding</c> and <c>Score</c> the exported graphs give.</summary>
    /// <exception cref="ArgumentException">A task the merge does not hold.</exception>
    public static (float[] Embeddings, float[] Probabilities) Predict(MergedModel merged, AlignedModel? stage, string task, TaskDataset data)
    {
        if (!merged.TaskNames.Contains(task)) throw new ArgumentException($"the merge has no task '{task}' (tasks: {string.Join(", ", merged.TaskNames)}).", nameof(task));
        if (stage is not null && stage.TaskNames.Contains(task))
            return (stage.Embed(task, data), stage.PredictProbabilities(task, data));
        var x = merged.Session.EmbedMerged(merged, task, data);                                   // (N, E)
        var head = HeadAlignedModel.FineTunedHead(merged, task, x.Length / Math.Max(data.Count, 1));
        return (x, head.Probabilities(x, data.Count));                                           // (N, K)
    }

    /// <summary>Writes a merge and its stages in the recipe runner's output format (what <c>mlnetmerge run</c> writes).</summary>
    public static void Save(MergedModel merged, IReadOnlyList<AlignedModel> stages, ulong seed, string directory, bool overwrite = false)
    {
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        OutputWriter.WriteMerged(dir, merged);
        var files = OutputWriter.CopyModelFiles(merged.Architecture, dir);
        OutputWriter.WriteStages(stages, dir);
        OutputWriter.WriteManifest(dir.PathOf("manifest.json"), merged.Summary, more: OutputWriter.PipelineEntries(seed, files.Count > 0, stages));
        dir.Commit();
    }

    /// <summary>Reads what <see cref="Save"/> (or a recipe run) wrote: the merge, each stage restored, the stages'
    /// estimators and the seed.</summary>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    public static (MergedModel Merged, List<AlignedModel> Stages, List<IAlignmentEstimator> Estimators, ulong Seed) Load(string directory,
        IReadOnlyList<AlignmentMethod>? alignmentMethods = null)
    {
        using var doc = OutputFormat.OpenManifest(directory, out string manifestPath);
        var root = doc.RootElement;
        var merged = OutputFormat.WithArchitecture(OutputFormat.ReadMerged(directory, root, manifestPath), directory, root, manifestPath);
        var (aligned, estimators) = OutputFormat.ReadStages(directory, root, manifestPath, merged, alignmentMethods);
        return (merged, aligned, estimators, OutputFormat.Seed(root));
    }
}
