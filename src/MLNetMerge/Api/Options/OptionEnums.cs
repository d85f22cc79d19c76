namespace MLNetMerge;

/// <summary>Disjoint merge of TIES's agreeing values.</summary>
public enum TiesMerge
{
    /// <summary>The mean (the paper).</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
}

/// <summary>Where TIES's magnitude threshold is taken.</summary>
public enum TiesTrim
{
    /// <summary>Over the whole task vector (the paper).</summary>
    Global,
    /// <summary>Per tensor.</summary>
    Tensor,
    /// <summary>Per tensor, exactly the ⌊keep·N⌋ largest magnitudes (mergekit's magnitude sparsification).</summary>
    TopK,
}

/// <summary>The sign a sign election gives an element whose weighted sum is exactly 0.</summary>
public enum SignTie
{
    /// <summary>The model's majority sign (the TIES authors' code).</summary>
    Majority,
    /// <summary>+ (mergekit's).</summary>
    Positive,
}

/// <summary>The merge DARE applies to the dropped vectors.</summary>
public enum DareMerge
{
    /// <summary>Task arithmetic.</summary>
    Ta,
    /// <summary>Weight averaging.</summary>
    Average,
    /// <summary>TIES-Merging.</summary>
    Ties,
}

/// <summary>Which parts of EMR's elect, mask and rescale the per-task models use (the paper's ablations).</summary>
public enum EmrMode
{
    /// <summary>Elect, mask and rescale.</summary>
    Full,
    /// <summary>The unified vector alone.</summary>
    Elect,
    /// <summary>Unified vector and masks.</summary>
    ElectMask,
    /// <summary>Unified vector and rescalers.</summary>
    ElectRescale,
}

/// <summary>The unified vector of EMR-Merging.</summary>
public enum EmrMerge
{
    /// <summary>EMR's election.</summary>
    Emr,
    /// <summary>Task arithmetic's merged vector.</summary>
    Ta,
    /// <summary>TIES's merged vector.</summary>
    Ties,
}

/// <summary>The multi-task vector LiNeS scales.</summary>
public enum LinesMerge
{
    /// <summary>Task arithmetic's Σt wt τt.</summary>
    Ta,
    /// <summary>TIES's trimmed, sign-elected disjoint mean.</summary>
    Ties,
    /// <summary>Consensus merging's Σt τt kept where at least k task masks agree.</summary>
    Consensus,
}

/// <summary>The merge TATR runs inside its trust region.</summary>
public enum TatrMerge
{
    /// <summary>Task arithmetic's Σt wt τt of the masked task vectors.</summary>
    Ta,
    /// <summary>TIES's trimmed, sign-elected disjoint mean of the masked task vectors.</summary>
    Ties,
}

/// <summary>Where the trust-region stage's gradients take their labels.</summary>
public enum TrustRegionLabels
{
    /// <summary>The fine-tuned models' predictions on unlabeled inputs (transductive on the test inputs).</summary>
    Predicted,
    /// <summary>The labeled validation split's labels, as the paper takes labeled examples.</summary>
    Validation,
}

/// <summary>How EMR's rescalers γt are computed.</summary>
public enum EmrRescaler
{
    /// <summary>From whole-model sums (the paper).</summary>
    Sum,
    /// <summary>From sums of per-tensor means (the authors' code).</summary>
    Mean,
}

/// <summary>What SLERP interpolates.</summary>
public enum SlerpOver
{
    /// <summary>The task vectors around the base.</summary>
    TaskVectors,
    /// <summary>The raw weights.</summary>
    Weights,
}

/// <summary>Disjoint merge of DELLA's agreeing values.</summary>
public enum DellaMerge
{
    /// <summary>The mean.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
}

/// <summary>The family of maps an aligned transformation fits.</summary>
public enum AlignedTransformKind
{
    /// <summary>W orthogonal (Procrustes).</summary>
    Orthogonal,
    /// <summary>W z + b.</summary>
    Affine,
    /// <summary>W z.</summary>
    Linear,
    /// <summary>W invertible.</summary>
    Invertible,
    /// <summary>Orthogonal W with a translation.</summary>
    Euclidean,
    /// <summary>A diagonal scale.</summary>
    Scaling,
}

/// <summary>How an aligned transformation is fitted.</summary>
public enum TransformSolver
{
    /// <summary>Closed form.</summary>
    ClosedForm,
    /// <summary>Adam with the β‖WᵀW − I‖² penalty.</summary>
    Trained,
}

/// <summary>How many merge coefficients a coefficient stage learns.</summary>
public enum CoefficientGranularity
{
    /// <summary>One per task and tensor.</summary>
    Layer,
    /// <summary>One per task.</summary>
    Task,
}

/// <summary>The task vectors AdaMerging weighs.</summary>
public enum AdaMergingVectors
{
    /// <summary>Plain task vectors.</summary>
    Plain,
    /// <summary>TIES-trimmed ones (AdaMerging++).</summary>
    Ties,
}

/// <summary>Labels of the empirical Fisher.</summary>
public enum FisherLabels
{
    /// <summary>Expected over the model's predictive distribution.</summary>
    Expected,
    /// <summary>One label sampled from it.</summary>
    Sampled,
}

/// <summary>Samples Tinting++ leaves out of the loss.</summary>
public enum TintingFilter
{
    /// <summary>None (Model Tinting).</summary>
    None,
    /// <summary>Those where the merged model is more confident than the individual one (the paper's text).</summary>
    MoreConfident,
    /// <summary>Those where they disagree and the merged model is more confident (the authors' code).</summary>
    DisagreeMoreConfident,
}

/// <summary>Model Tinting's loss against the individual model.</summary>
public enum TintingLoss
{
    /// <summary>Cross-entropy to its pseudo-labels.</summary>
    Hard,
    /// <summary>Cross-entropy to its probabilities.</summary>
    Soft,
    /// <summary>Mean squared error of the logits.</summary>
    Mse,
}
