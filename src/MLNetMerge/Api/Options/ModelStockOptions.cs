namespace MLNetMerge;

/// <summary>Settings of Model Stock: interpolation toward the base by the task vectors' angle (Jang et al. 2024, arXiv:2403.19522). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class ModelStockOptions : MergeOptions
{
    internal override string MethodName => "model_stock";
}
