namespace MLNetMerge;

/// <summary>Settings of Task arithmetic, <c>θ0 + λ Σ wt τt</c> (Ilharco et al. 2023, arXiv:2212.04089). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TaskArithmeticOptions : MergeOptions
{
    internal override string MethodName => "task_arithmetic";

    /// <summary>λ: multiplies the combined task vector. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("task_arithmetic", "scale");

    /// <summary>Divide Σ w·τ by Σ w (mergekit's normalize; a zero sum divides by 1). Default false.</summary>
    [RecipeParameter("normalize")]
    public bool Normalize { get; set; } = Declared.MergeFlag("task_arithmetic", "normalize");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("task_arithmetic", "int8_mask");
}
