
namespace MLNetMerge.Alignment;

/// <summary>Settings of Model Tinting / Tinting++, read from their declared parameters (<see cref="TintingSettings.Declared"/>).</summary>
internal sealed class TintingConfig
{
    /// <summary>Tinting++: leave out of the loss the samples <see cref="FilterRule"/> drops.</summary>
    public required bool PlusPlus { get; init; }

    /// <summary>The Tinting++ rule when <see cref="PlusPlus"/> is on.</summary>
    public required TintingFilterRule FilterRule { get; init; }

    /// <summary>Task-specific layer: null for each task's classification head, else the index of the transformer
    /// block duplicated per task (initialised from the merged block; the heads then stay the fine-tuned ones).</summary>
    public required int? Block { get; init; }

    /// <summary>Loss against the individual model.</summary>
    public required TintingLossKind Loss { get; init; }

    /// <summary>Rounds R; each visits every task once in a shuffled order with one Adam step.</summary>
    public required int Rounds { get; init; }

    /// <summary>Adam learning rate for coefficients and task layers.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Unlabeled examples per task step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Initial value of every merge coefficient (clamped to [0, 1]).</summary>
    public required double InitialCoefficient { get; init; }


    /// <summary>The sample filter these options select.</summary>
    public TintingFilterRule EffectiveFilter => PlusPlus ? FilterRule : TintingFilterRule.None;
}
