namespace MLNetMerge;

/// <summary>Settings of TATR, task arithmetic in a trust region, data-free: task arithmetic outside the elements where the task
/// vectors conflict most (Sun et al. 2025, arXiv:2501.15065). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TatrOptions : MergeOptions
{
    internal override string MethodName => "tatr";

    /// <summary>Share of the model's elements, from the lowest conflict up, inside the trust region. Default 0.99.</summary>
    [RecipeParameter("quantile")]
    public double Quantile { get; set; } = Declared.MergeNumber("tatr", "quantile");

    /// <summary>λ: multiplies the sum of the task vectors inside the trust region. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("tatr", "scale");
}
