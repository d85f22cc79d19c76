namespace MLNetMerge;

/// <summary>Settings of PCB merging: intra- and inter-task competition scores select and weight each task's elements
/// (Du et al. 2024, arXiv:2410.02396). Defaults are the method's declared parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class PcbOptions : MergeOptions
{
    internal override string MethodName => "pcb";

    /// <summary>Fraction of each task vector's elements with the highest balance score kept (the authors' pcb_ratio). Default 0.1.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("pcb", "keep");

    /// <summary>λ: multiplies the score-weighted mean of the clipped task vectors. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("pcb", "scale");

    /// <summary>Fraction of each task vector's magnitudes clipped at either end before scoring. Default 0.0001.</summary>
    [RecipeParameter("clip")]
    public double Clip { get; set; } = Declared.MergeNumber("pcb", "clip");
}
