using System.Globalization;
using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>Settings of Model Tinting / Tinting++ (seed 003, METHODS.md §2), with the paper's vision defaults.</summary>
public sealed class TintingOptions
{
    /// <summary>Tinting++: leave out of the loss the samples <see cref="FilterRule"/> drops. Default false (plain Tinting).</summary>
    public bool PlusPlus { get; init; }

    /// <summary>The Tinting++ rule when <see cref="PlusPlus"/> is on. Default <see cref="TintingFilterRule.DisagreeAndMoreConfident"/>
    /// (the authors' code, which produced the published numbers); <see cref="TintingFilterRule.MoreConfident"/> is the paper's text.</summary>
    public TintingFilterRule FilterRule { get; init; } = TintingFilterRule.DisagreeAndMoreConfident;

    /// <summary>Task-specific layer: null for each task's classification head (default), else the index of the transformer
    /// block duplicated per task (initialised from the merged block; the heads then stay the fine-tuned ones).</summary>
    public int? Block { get; init; }

    /// <summary>Loss against the individual model. Default <see cref="TintingLoss.Hard"/> (cross-entropy to its pseudo-labels).</summary>
    public TintingLoss Loss { get; init; } = TintingLoss.Hard;

    /// <summary>Rounds R; each visits every task once in a shuffled order with one Adam step. Default 500 (vision).</summary>
    public int Rounds { get; init; } = 500;

    /// <summary>Adam learning rate for coefficients and task layers. Default 1e-2 (the paper's rate when heads are trained).</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Unlabeled examples per task step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Initial value of every merge coefficient (clamped to [0, 1]). Default 0.3.</summary>
    public double InitialCoefficient { get; init; } = 0.3;


    /// <summary>The sample filter these options select.</summary>
    public TintingFilterRule EffectiveFilter => PlusPlus ? FilterRule : TintingFilterRule.None;
}
