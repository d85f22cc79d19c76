namespace MLNetMerge;

/// <summary>Settings of TATR, task arithmetic in a trust region, data-free: task arithmetic (or TIES) outside the elements where the task
/// vectors conflict most (Sun et al. 2025, arXiv:2501.15065). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TatrOptions : MergeOptions
{
    internal override string MethodName => "tatr";

    /// <summary>Share of the model's elements, from the lowest conflict up, inside the trust region. Default 0.99.</summary>
    [RecipeParameter("quantile")]
    public double Quantile { get; set; } = Declared.MergeNumber("tatr", "quantile");

    /// <summary>λ; null: 0.3 with <see cref="TatrMerge.Ta"/> (a sum), 1.0 with <see cref="TatrMerge.Ties"/> (a mean).</summary>
    [RecipeParameter("scale")]
    public double? Scale { get; set; }

    /// <summary>The merge inside the trust region. Default <see cref="TatrMerge.Ta"/>.</summary>
    [RecipeParameter("merge")]
    public TatrMerge Merge { get; set; } = Declared.MergeChoice<TatrMerge>("tatr", "merge");

    /// <summary>TIES keep fraction when <see cref="Merge"/> is <see cref="TatrMerge.Ties"/>. Default 0.2.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("tatr", "keep");
}
