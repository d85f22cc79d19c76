using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>What every merge estimator's options share: the task the fitted transformer serves, per-model weights, the
/// ONNX Runtime device, and progress and cancellation of the fit.</summary>
public abstract class MergeOptions
{
    /// <summary>The method's recipe name.</summary>
    internal abstract string MethodName { get; }

    /// <summary>The declared parameters these options set, in recipe form.</summary>
    internal virtual Dictionary<string, ParameterValue> RecipeParameters() => Declared.ToParameters(this);

    /// <summary>A copy of these options as they are now: an estimator keeps it, so changing the options afterwards (one
    /// Options object reused to make an estimator per task) changes no estimator already made.</summary>
    /// <exception cref="ArgumentException"><see cref="Weights"/> is null.</exception>
    internal MergeOptions Snapshot()
    {
        if (Weights is null) throw new ArgumentException($"{nameof(Weights)} is null; leave it empty for weight 1 on every task.", nameof(Weights));
        var copy = (MergeOptions)MemberwiseClone();
        copy.Weights = new Dictionary<string, double>(Weights.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        return copy;
    }

    /// <summary>The per-model parameters of <paramref name="task"/> in recipe form (its <see cref="Weights"/> entry), or null.</summary>
    internal virtual IReadOnlyDictionary<string, ParameterValue>? ModelParameters(string task) =>
        Weights.TryGetValue(task, out var w) ? new Dictionary<string, ParameterValue> { ["weight"] = new ParameterValue.Scalar(w) } : null;

    /// <summary>Seed of every random choice of the merge (DARE's drops, …) and of the alignment stage after it (few-shot
    /// draws, batch order, initialisation). Default null: drawn once from the <c>MLContext</c>'s own random source when the
    /// estimator is made (so <c>new MLContext(seed: s)</c> makes the whole fit reproducible, and the estimator's
    /// <c>ToRecipeYaml</c> writes the seed its fit uses). Estimators that must agree — one per task and one for every task —
    /// agree when they share a seed.</summary>
    public ulong? Seed { get; set; }

    /// <summary>The task the transformer serves (its columns <c>Embedding</c>, <c>Score</c>, <c>PredictedLabel</c>), or null
    /// for one transformer serving every task (columns suffixed <c>.{task}</c>). Default null.</summary>
    public string? Task { get; set; }

    /// <summary>Per-model weight of each task vector, by task (tasks not listed weigh 1), for the methods that declare a
    /// <c>weight</c>. Default none.</summary>
    public IReadOnlyDictionary<string, double> Weights { get; set; } = new Dictionary<string, double>();

    /// <summary>Run the fitted transformer on this GPU through ONNX Runtime's CUDA provider (needs the
    /// Microsoft.ML.OnnxRuntime.Gpu package in place of the CPU one). Default null: the CPU.</summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>With <see cref="GpuDeviceId"/>, fall back to the CPU when the GPU cannot be used. Default false.</summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>Progress of the merge and the alignment stages. Default none.</summary>
    public IProgress<MergeProgress>? Progress { get; set; }

    /// <summary>Cancels the fit between tensors, steps and batches. Default none.</summary>
    public CancellationToken CancellationToken { get; set; }
}

/// <summary>What every alignment stage's options share. The stage draws its random choices from the merge's seed
/// (<see cref="MergeOptions.Seed"/>), as a recipe's stages do from the recipe's.</summary>
public abstract class AlignmentOptions
{
    /// <summary>The stage's recipe name.</summary>
    internal abstract string MethodName { get; }

    /// <summary>The declared parameters these options set, in recipe form.</summary>
    internal virtual Dictionary<string, ParameterValue> StageParameters() => Declared.ToParameters(this);

    /// <summary>A copy of these options as they are now (see <see cref="MergeOptions.Snapshot"/>).</summary>
    internal AlignmentOptions Snapshot() => (AlignmentOptions)MemberwiseClone();

    /// <summary>The column of class labels in the view the stage is fitted on (a key, a 0-based integer class index, or
    /// the class name). A stage that takes labels (<see cref="TrustRegionOptions"/> with
    /// <see cref="TrustRegionLabels.Validation"/>) needs it; a few-shot stage (<see cref="FtClassifierOptions"/>,
    /// <see cref="AlignedTransformOptions"/> with shots) reads it when the view has it, only to draw its examples evenly
    /// per class, as a recipe's fit does; other stages read no label. Default <c>Label</c>, ML.NET's own default label
    /// column. Not a recipe parameter: recipes read the zoo's splits.</summary>
    public string LabelColumnName { get; set; } = "Label";
}
