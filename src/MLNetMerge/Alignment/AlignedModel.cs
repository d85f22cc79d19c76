using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// A merged model after an alignment stage (new heads, transforms, coefficients, per-task layers), immutable.
/// It predicts every task it was fitted for, and its learned state is a list of named tensors so that
/// <c>ctx.Model.Save</c> can write it beside the merged weights and the stage's registry entry can restore it.
/// </summary>
internal abstract class AlignedModel
{
    /// <summary>Creates the result of aligning <paramref name="merged"/>.</summary>
    protected AlignedModel(MergedModel merged) => Merged = merged ?? throw new ArgumentNullException(nameof(merged));

    /// <summary>The merged model the stage was fitted on.</summary>
    public MergedModel Merged { get; }

    /// <summary>Recipe name of the stage that produced it (<c>ft_classifier</c>, <c>adamerging</c>, …).</summary>
    public abstract string Method { get; }

    /// <summary>The stage's settings, in recipe form (what the registry entry needs to rebuild the estimator).</summary>
    public abstract IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <summary>Tasks it predicts.</summary>
    public abstract IReadOnlyList<string> TaskNames { get; }

    /// <summary>Class probabilities (N, K) of <paramref name="task"/> for the examples of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">Unknown task, or examples of the wrong size.</exception>
    public abstract float[] PredictProbabilities(string task, MLNetMerge.Data.TaskDataset data, CancellationToken cancellationToken = default);

    /// <summary>Embeddings (N, E) that feed <paramref name="task"/>'s classifier (after any task-specific transform).</summary>
    public abstract float[] Embed(string task, MLNetMerge.Data.TaskDataset data, CancellationToken cancellationToken = default);

    /// <summary>The task as an encoder plus a linear head (what an ONNX graph holds), or null when the stage learned
    /// something such a graph cannot hold (a non-linear adapter).</summary>
    internal abstract TaskExport? ExportTask(string task);

    /// <summary>The learned state: named float32 tensors with shapes (heads, transforms, coefficients, merged weights).</summary>
    public abstract IReadOnlyList<AlignedTensor> State { get; }
}
