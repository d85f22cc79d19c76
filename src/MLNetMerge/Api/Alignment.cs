using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>What a method consumes besides the checkpoints; tables mark transductive methods.</summary>
public enum DataRequirement
{
    /// <summary>Nothing: data-free.</summary>
    None,
    /// <summary>Unlabeled test inputs (transductive).</summary>
    UnlabeledTest,
    /// <summary>A labeled validation split.</summary>
    LabeledValidation,
    /// <summary>Training data.</summary>
    Training,
}

/// <summary>Task inputs handed to alignment and evaluation: features (e.g. images) with optional labels.</summary>
/// <param name="Task">Task name.</param>
/// <param name="Inputs">Row-major inputs, <c>Shape[0]</c> samples.</param>
/// <param name="Shape">Input shape, samples first.</param>
/// <param name="Labels">Class labels, or null for unlabeled data.</param>
public sealed record TaskData(string Task, float[] Inputs, int[] Shape, int[]? Labels = null)
{
    /// <summary>Number of samples.</summary>
    public int Count => Shape.Length == 0 ? 0 : Shape[0];
}

/// <summary>What a pipeline is fitted on: the family and, for alignment stages, per-task data.</summary>
/// <param name="Family">The checkpoints.</param>
/// <param name="Data">Per task, the data alignment may use (unlabeled for transductive methods).</param>
public sealed record MergeInputs(ModelFamily Family, IReadOnlyDictionary<string, TaskData>? Data = null);

/// <summary>A merged model after an alignment stage (new heads, transforms, coefficients), immutable.</summary>
public abstract class AlignedModel
{
    /// <summary>Creates the result of aligning <paramref name="merged"/>.</summary>
    protected AlignedModel(MergedModel merged) => Merged = merged;

    /// <summary>The merged model the stage was fitted on.</summary>
    public MergedModel Merged { get; }
}

/// <summary>
/// A trainable stage fitted after a merge on task data (FT-Classifier, aligned transforms, AdaMerging, Tinting, …).
/// Implementations declare the data they consume.
/// </summary>
public interface IAlignmentEstimator
{
    /// <summary>Recipe name of the stage.</summary>
    string Name { get; }

    /// <summary>Data it consumes.</summary>
    DataRequirement Consumes { get; }

    /// <summary>Fits the stage.</summary>
    AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>A merge followed by alignment stages, composed with <see cref="IMergeEstimator.Append"/>.</summary>
public sealed class MergePipeline
{
    internal MergePipeline(IMergeEstimator merge, IReadOnlyList<IAlignmentEstimator> stages)
    {
        Merge = merge;
        Stages = stages;
    }

    /// <summary>The merge stage.</summary>
    public IMergeEstimator Merge { get; }

    /// <summary>Alignment stages in order.</summary>
    public IReadOnlyList<IAlignmentEstimator> Stages { get; }

    /// <summary>Adds a stage.</summary>
    public MergePipeline Append(IAlignmentEstimator next) => new(Merge, [.. Stages, next]);

    /// <summary>Fits every stage in order; each alignment stage sees the merged model.</summary>
    public FittedPipeline Fit(MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var merged = Merge.Fit(inputs.Family, progress, cancellationToken);
        var aligned = new List<AlignedModel>();
        foreach (var stage in Stages)
        {
            if (stage.Consumes != DataRequirement.None && inputs.Data is null)
                throw new RecipeException(null, $"stage '{stage.Name}' needs task data ({stage.Consumes}); MergeInputs.Data is empty.");
            aligned.Add(stage.Fit(merged, inputs, progress, cancellationToken));
        }
        return new FittedPipeline(merged, aligned);
    }
}

/// <summary>The immutable result of <see cref="MergePipeline.Fit"/>.</summary>
/// <param name="Merged">The merged model.</param>
/// <param name="Aligned">Each alignment stage's result.</param>
public sealed record FittedPipeline(MergedModel Merged, IReadOnlyList<AlignedModel> Aligned);
