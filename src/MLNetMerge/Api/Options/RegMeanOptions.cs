namespace MLNetMerge;

/// <summary>Settings of RegMean: every linear layer merged in closed form from its inputs' Gram matrices (Jin et al. 2023, arXiv:2212.09849). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class RegMeanOptions : AlignmentOptions
{
    internal override string MethodName => "regmean";

    /// <summary>Scale of the Gram matrices' off-diagonal entries (1 = exact least squares). Default 0.95.</summary>
    [RecipeParameter("alpha")]
    public double Alpha { get; set; } = Declared.StageNumber("regmean", "alpha");

    /// <summary>Unlabeled inputs per task whose linear-layer inputs form the Gram matrices. Default 256.</summary>
    [RecipeParameter("samples")]
    public int Samples { get; set; } = (int)Declared.StageNumber("regmean", "samples");

    /// <summary>Inputs per forward pass. Default 64.</summary>
    [RecipeParameter("batch_size")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("regmean", "batch_size");
}
