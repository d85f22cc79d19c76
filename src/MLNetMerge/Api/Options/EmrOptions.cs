namespace MLNetMerge;

/// <summary>Settings of EMR-Merging: elect a unified vector, mask and rescale per task (Huang et al. 2024, arXiv:2405.17461). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class EmrOptions : MergeOptions
{
    internal override string MethodName => "emr";

    /// <summary>Which parts of elect, mask and rescale the per-task models use. Default <see cref="EmrMode.Full"/>.</summary>
    [RecipeParameter("mode")]
    public EmrMode Mode { get; set; } = Declared.MergeChoice<EmrMode>("emr", "mode");

    /// <summary>The unified vector: EMR's election, or task arithmetic's or TIES's merge. Default <see cref="EmrMerge.Emr"/>.</summary>
    [RecipeParameter("merge")]
    public EmrMerge Merge { get; set; } = Declared.MergeChoice<EmrMerge>("emr", "merge");

    /// <summary>γt from whole-model sums (the paper) or sums of per-tensor means (the authors' code). Default <see cref="EmrRescaler.Sum"/>.</summary>
    [RecipeParameter("rescaler")]
    public EmrRescaler Rescaler { get; set; } = Declared.MergeChoice<EmrRescaler>("emr", "rescaler");

    /// <summary>λ of a task-arithmetic (null: 0.3) or TIES (null: 1.0) unified vector.</summary>
    [RecipeParameter("scale")]
    public double? Scale { get; set; }

    /// <summary>TIES keep fraction of a TIES unified vector. Default 0.2.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("emr", "keep");
}
