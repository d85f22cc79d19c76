namespace MLNetMerge;

// mergekit's methods beyond the papers' (nuslerp, multislerp, karcher, sce, nearswap, arcee_fusion): per method a short overload and one taking
// the method's Options. mergekit's composite names (dare_ties, della_linear, breadcrumbs_ties, …) are aliases of
// registry methods with implied parameters: Merge(family, "della_linear", parameters) reaches them.
public sealed partial class MergingCatalog
{
    /// <summary>mergekit's nuslerp: SLERP of two models at <c>t = w2 / (w1 + w2)</c> (Goddard et al. 2024, arXiv:2403.13257).</summary>
    /// <param name="family">The base and exactly two fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator NuSlerp(MergeFamily family, string? task = null) => Merge(family, new NuSlerpOptions { Task = task });

    /// <summary>mergekit's nuslerp: SLERP of two models at <c>t = w2 / (w1 + w2)</c> (Goddard et al. 2024,
    /// arXiv:2403.13257), with every setting (the weights w are <see cref="MergeOptions.Weights"/>).</summary>
    /// <param name="family">The base and exactly two fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator NuSlerp(MergeFamily family, NuSlerpOptions options) => Merge(family, options);

    /// <summary>mergekit's multislerp: barycentric SLERP of the task models (Goddard et al. 2024, arXiv:2403.13257).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator MultiSlerp(MergeFamily family, string? task = null) => Merge(family, new MultiSlerpOptions { Task = task });

    /// <summary>mergekit's multislerp: barycentric SLERP of the task models (Goddard et al. 2024, arXiv:2403.13257),
    /// with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator MultiSlerp(MergeFamily family, MultiSlerpOptions options) => Merge(family, options);

    /// <summary>mergekit's karcher: the Riemannian mean of the models' weight directions at their mean norm
    /// (Goddard et al. 2024, arXiv:2403.13257; Karcher 1977).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Karcher(MergeFamily family, string? task = null) => Merge(family, new KarcherOptions { Task = task });

    /// <summary>mergekit's karcher: the Riemannian mean of the models' weight directions at their mean norm
    /// (Goddard et al. 2024, arXiv:2403.13257; Karcher 1977), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Karcher(MergeFamily family, KarcherOptions options) => Merge(family, options);

    /// <summary>SCE: select high-variance positions, weight tasks by mean τ², erase minority signs (Wan et al. 2024,
    /// FuseChat, arXiv:2408.07990).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="selectTopK">Share of positions kept by variance across tasks. Default 1.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Sce(MergeFamily family, double? selectTopK = null, string? task = null)
    {
        var options = new SceOptions { Task = task };
        if (selectTopK is { } share) options.SelectTopK = share;
        return Merge(family, options);
    }

    /// <summary>SCE: select high-variance positions, weight tasks by mean τ², erase minority signs (Wan et al. 2024,
    /// FuseChat, arXiv:2408.07990), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Sce(MergeFamily family, SceOptions options) => Merge(family, options);

    /// <summary>mergekit's nearswap: the fine-tuned model's values where they lie within <c>t</c> of the base, the base
    /// moved <c>t</c> toward them elsewhere (alchemonaut 2024; Goddard et al. 2024, arXiv:2403.13257).</summary>
    /// <param name="family">The base and exactly one fine-tuned checkpoint.</param>
    /// <param name="t">Sameness threshold. Default 0.0001.</param>
    /// <param name="task">The task the transformer serves; null: its one task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator NearSwap(MergeFamily family, double? t = null, string? task = null)
    {
        var options = new NearSwapOptions { Task = task };
        if (t is { } threshold) options.T = threshold;
        return Merge(family, options);
    }

    /// <summary>mergekit's nearswap (alchemonaut 2024; Goddard et al. 2024, arXiv:2403.13257), with every setting.</summary>
    /// <param name="family">The base and exactly one fine-tuned checkpoint.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator NearSwap(MergeFamily family, NearSwapOptions options) => Merge(family, options);

    /// <summary>mergekit's arcee_fusion: the fine-tuned model's changes at the elements whose importance |τ|·KL(row) lies
    /// above the tensor's upper fence (Arcee AI 2025; Goddard et al. 2024, arXiv:2403.13257).</summary>
    /// <param name="family">The base and exactly one fine-tuned checkpoint.</param>
    /// <param name="task">The task the transformer serves; null: its one task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator ArceeFusion(MergeFamily family, string? task = null) => Merge(family, new ArceeFusionOptions { Task = task });

    /// <summary>mergekit's arcee_fusion (Arcee AI 2025; Goddard et al. 2024, arXiv:2403.13257), with every setting.</summary>
    /// <param name="family">The base and exactly one fine-tuned checkpoint.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator ArceeFusion(MergeFamily family, ArceeFusionOptions options) => Merge(family, options);
}
