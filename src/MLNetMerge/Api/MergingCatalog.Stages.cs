namespace MLNetMerge;

// The alignment stages of the catalog, appended to a merge with MergeEstimator.Append.
public sealed partial class MergingCatalog
{

    /// <summary>FT-Classifier: a new head per task trained on few-shot unlabeled inputs to match the fine-tuned model (Kong et al. 2024, arXiv:2412.13526).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage FtClassifier(FtClassifierOptions? options = null) => new(options ?? new FtClassifierOptions());

    /// <summary>An aligned transformation per task between merged and fine-tuned features, then the frozen fine-tuned head (Kong et al. 2024, arXiv:2412.13526).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage AlignedTransform(AlignedTransformOptions? options = null) => new(options ?? new AlignedTransformOptions());

    /// <summary>Representation Surgery: a small residual module per task that pulls the merged features towards the
    /// fine-tuned model's, trained on unlabeled inputs, then the frozen fine-tuned head (Yang et al. 2024, arXiv:2402.02705).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage Surgery(SurgeryOptions? options = null) => new(options ?? new SurgeryOptions());

    /// <summary>AdaMerging: merge coefficients learned by entropy minimisation on unlabeled inputs (Yang et al. 2024, arXiv:2310.02575).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage AdaMerging(AdaMergingOptions? options = null) => new(options ?? new AdaMergingOptions());

    /// <summary>CART++: CART's low-rank vectors with AdaMerging's learned coefficients (Choi et al. 2024, arXiv:2412.12153).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage CartPlusPlus(CartPlusPlusOptions? options = null) => new(options ?? new CartPlusPlusOptions());

    /// <summary>RegMean: every linear layer merged in closed form from its inputs' Gram matrices (Jin et al. 2023, arXiv:2212.09849).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage RegMean(RegMeanOptions? options = null) => new(options ?? new RegMeanOptions());

    /// <summary>Fisher merging: parameters averaged with each model's diagonal Fisher as weights (Matena &amp; Raffel 2022, arXiv:2111.09832).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage Fisher(FisherOptions? options = null) => new(options ?? new FisherOptions());

    /// <summary>TATR with gradients: task arithmetic inside the trust region each task's mean absolute loss gradient at the
    /// base weights defines (Sun et al. 2025, arXiv:2501.15065).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage TrustRegion(TrustRegionOptions? options = null) => new(options ?? new TrustRegionOptions());

    /// <summary>Model Tinting and Tinting++: merge coefficients and one task-specific layer trained on unlabeled inputs (Jung et al. 2024, arXiv:2412.19098).</summary>
    /// <param name="options">The settings; null: the declared defaults.</param>
    public AlignmentStage Tinting(TintingOptions? options = null) => new(options ?? new TintingOptions());
}
