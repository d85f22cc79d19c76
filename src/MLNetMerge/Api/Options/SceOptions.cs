namespace MLNetMerge;

/// <summary>Settings of SCE: select high-variance positions, calculate per-task weights from mean τ², erase minority
/// signs (Wan et al. 2024, FuseChat, arXiv:2408.07990; as mergekit applies it). Defaults are the method's declared
/// parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class SceOptions : MergeOptions
{
    internal override string MethodName => "sce";

    /// <summary>Share of positions (with non-zero variance across tasks) kept by variance; 1 keeps all. Default 1.</summary>
    [RecipeParameter("select_topk")]
    public double SelectTopK { get; set; } = Declared.MergeNumber("sce", "select_topk");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("sce", "int8_mask");
}
