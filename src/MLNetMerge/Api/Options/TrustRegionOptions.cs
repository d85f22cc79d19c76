namespace MLNetMerge;

/// <summary>Settings of TATR with gradients: task arithmetic inside the trust region that each task's mean absolute loss
/// gradient at the base weights defines (Sun et al. 2025, arXiv:2501.15065). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TrustRegionOptions : AlignmentOptions
{
    internal override string MethodName => "trust_region";

    /// <summary>Inputs per task the mean absolute gradient is averaged over. Default 128.</summary>
    [RecipeParameter("samples")]
    public int Samples { get; set; } = (int)Declared.StageNumber("trust_region", "samples");

    /// <summary>Share of the encoder's elements, from the lowest conflict up, inside the trust region. Default 0.99.</summary>
    [RecipeParameter("quantile")]
    public double Quantile { get; set; } = Declared.StageNumber("trust_region", "quantile");

    /// <summary>λ of the task-arithmetic merge inside the trust region. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.StageNumber("trust_region", "scale");

    /// <summary>Where the gradients take their labels. Default <see cref="TrustRegionLabels.Predicted"/>.</summary>
    [RecipeParameter("labels")]
    public TrustRegionLabels Labels { get; set; } = Declared.StageChoice<TrustRegionLabels>("trust_region", "labels");
}
