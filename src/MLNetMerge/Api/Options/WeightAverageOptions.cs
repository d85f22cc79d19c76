namespace MLNetMerge;

/// <summary>Settings of Weight averaging, <c>(1/T) Σ θt</c> (Wortsman et al. 2022, model soups, arXiv:2203.05482). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class WeightAverageOptions : MergeOptions
{
    internal override string MethodName => "weight_average";
}
