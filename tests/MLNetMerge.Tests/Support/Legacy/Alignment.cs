using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>A merge followed by alignment stages, composed with <see cref="IMergeEstimator.Append"/>.</summary>
internal sealed class MergePipeline
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
    /// heads pattern, seed and the <c>align:</c> stages); <see cref="RecipePipelines.ToPipeline"/> reads it back into an equal pipeline.</summary>
    /// <param name="family">The checkpoints the recipe names (paths and head pattern come from it).</param>
    /// <param name="alignData">The <c>align.data</c> entry (zoo, split, samples) to write, or null for none.</param>
    /// <param name="output">The recipe's <c>output</c>, or null.</param>
    public MLNetMerge.Recipes.MergeRecipe ToRecipe(ModelFamily family, MLNetMerge.Recipes.AlignData? alignData = null, string? output = null) =>
        RecipePipelines.ToRecipe(this, family, alignData, output);

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
        return new FittedPipeline(merged, aligned) { Pipeline = this };
    }
}

