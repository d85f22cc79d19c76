namespace MLNetMerge;

/// <summary>Settings of Fisher merging: parameters averaged with each model's diagonal Fisher as weights (Matena &amp; Raffel 2022, arXiv:2111.09832). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class FisherOptions : AlignmentOptions
{
    internal override string MethodName => "fisher";

    /// <summary>Unlabeled inputs per task the diagonal Fisher is averaged over. Default 256.</summary>
    [RecipeParameter("samples")]
    public int Samples { get; set; } = (int)Declared.StageNumber("fisher", "samples");

    /// <summary>Expected over the model's predictive distribution, or one label sampled from it. Default <see cref="FisherLabels.Expected"/>.</summary>
    [RecipeParameter("labels")]
    public FisherLabels Labels { get; set; } = Declared.StageChoice<FisherLabels>("fisher", "labels");

    /// <summary>Added to every Fisher entry, so that parameters no task informs fall back to averaging. Default 1E-06.</summary>
    [RecipeParameter("floor")]
    public double Floor { get; set; } = Declared.StageNumber("fisher", "floor");
}
