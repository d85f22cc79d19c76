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

/// <summary>What a pipeline is fitted on: the family and, for alignment stages, per-task data.</summary>
/// <param name="Family">The checkpoints.</param>
/// <param name="Data">Per task name, the data alignment may use (unlabeled for transductive methods: pass
/// <see cref="MLNetMerge.Data.TaskDataset.WithoutLabels"/>).</param>
public sealed record MergeInputs(ModelFamily Family, IReadOnlyDictionary<string, MLNetMerge.Data.TaskDataset>? Data = null);

/// <summary>
/// A merged model after an alignment stage (new heads, transforms, coefficients, per-task layers), immutable.
/// It predicts every task it was fitted for, and its learned state is a list of named tensors so that
/// <c>ctx.Model.Save</c> can write it beside the merged weights and the stage's registry entry can restore it.
/// </summary>
public abstract class AlignedModel
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

    /// <summary>The learned state: named float32 tensors with shapes (heads, transforms, coefficients, merged weights).</summary>
    public abstract IReadOnlyList<AlignedTensor> State { get; }
}

/// <summary>One learned tensor of an <see cref="AlignedModel"/>.</summary>
/// <param name="Name">Name, e.g. <c>fashion.classifier.weight</c>.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Values">Row-major values.</param>
public sealed record AlignedTensor(string Name, int[] Shape, float[] Values);

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

    /// <summary>Its settings in recipe form (<c>align: { method: NAME, parameters: {…} }</c>); the registry rebuilds the
    /// same estimator from them.</summary>
    IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

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

    /// <summary>A pipeline of <paramref name="merge"/> followed by <paramref name="stages"/> (none: a merge-only pipeline).</summary>
    public static MergePipeline Create(IMergeEstimator merge, params IEnumerable<IAlignmentEstimator> stages)
    {
        ArgumentNullException.ThrowIfNull(merge);
        ArgumentNullException.ThrowIfNull(stages);
        return new(merge, stages.ToList());
    }

    /// <summary>This pipeline as a recipe over <paramref name="family"/>'s checkpoints (method, parameters, per-model parameters,
    /// heads pattern, seed and the <c>align:</c> stages); <see cref="Recipes.MergeRecipe.ToPipeline"/> reads it back into an equal pipeline.</summary>
    /// <param name="family">The checkpoints the recipe names (paths and head pattern come from it).</param>
    /// <param name="alignData">The <c>align.data</c> entry (zoo, split, samples) to write, or null for none.</param>
    /// <param name="output">The recipe's <c>output</c>, or null.</param>
    public Recipes.MergeRecipe ToRecipe(ModelFamily family, Recipes.AlignData? alignData = null, string? output = null) =>
        Recipes.RecipePipelines.ToRecipe(this, family, alignData, output);

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
        return new FittedPipeline(merged, aligned) { ArchitectureConfig = FittedPipeline.ConfigBeside(inputs.Family.Base.Path), Pipeline = this };
    }
}

