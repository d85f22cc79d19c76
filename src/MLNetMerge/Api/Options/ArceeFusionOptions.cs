namespace MLNetMerge;

/// <summary>Settings of mergekit's arcee_fusion: one fine-tuned model's changes at the elements whose importance
/// |τ|·KL(row) lies above the tensor's upper fence (Arcee AI 2025; Goddard et al. 2024, arXiv:2403.13257). It takes no
/// parameters.</summary>
public sealed class ArceeFusionOptions : MergeOptions
{
    internal override string MethodName => "arcee_fusion";
}
