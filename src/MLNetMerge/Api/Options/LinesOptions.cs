namespace MLNetMerge;

/// <summary>Settings of LiNeS: the multi-task vector of task arithmetic, TIES or consensus merging scaled linearly with block depth
/// (Wang et al. 2025, arXiv:2410.17146). Defaults are the method's declared parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class LinesOptions : MergeOptions
{
    internal override string MethodName => "lines";

    /// <summary>The multi-task vector that is scaled. Default <see cref="LinesMerge.Ta"/>.</summary>
    [RecipeParameter("merge")]
    public LinesMerge Merge { get; set; } = Declared.MergeChoice<LinesMerge>("lines", "merge");

    /// <summary>β: the scale's increase from the first block to the last. Default 0.5.</summary>
    [RecipeParameter("beta")]
    public double Beta { get; set; } = Declared.MergeNumber("lines", "beta");

    /// <summary>α: the first block's scale and that of tensors outside the blocks; null: (‖Σt τt‖ / ‖τm‖) / T.</summary>
    [RecipeParameter("alpha")]
    public double? Alpha { get; set; }

    /// <summary>TIES keep fraction when <see cref="Merge"/> is <see cref="LinesMerge.Ties"/>. Default 0.2.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("lines", "keep");

    /// <summary>κ of the consensus task masks when <see cref="Merge"/> is <see cref="LinesMerge.Consensus"/>. Default 0.4.</summary>
    [RecipeParameter("kappa")]
    public double Kappa { get; set; } = Declared.MergeNumber("lines", "kappa");

    /// <summary>Task masks an element needs when <see cref="Merge"/> is <see cref="LinesMerge.Consensus"/>. Default 2.</summary>
    [RecipeParameter("k")]
    public double MinimumAgreement { get; set; } = Declared.MergeNumber("lines", "k");
}
