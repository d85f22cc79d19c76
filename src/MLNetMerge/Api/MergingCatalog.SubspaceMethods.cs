namespace MLNetMerge;

// The per-matrix subspace methods of the catalog (TSV-M, ISO-C, ISO-CTS, WUDI): per method a short overload (its main
// settings; null keeps the declared default) and one taking the method's Options; both funnel into Merge(MergeFamily, MergeOptions).
public sealed partial class MergingCatalog
{
    /// <summary>TSV-M: per matrix, the top 1/T singular vectors of each task vector, decorrelated by orthogonal Procrustes
    /// (Gargiulo et al. 2025, arXiv:2412.00081).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="scale">λ (the paper's α). Default 1.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator TsvMerge(MergeFamily family, double? scale = null, string? task = null)
    {
        var options = new TsvMergeOptions { Task = task };
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>TSV-M: per matrix, the top 1/T singular vectors of each task vector, decorrelated by orthogonal Procrustes
    /// (Gargiulo et al. 2025, arXiv:2412.00081), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator TsvMerge(MergeFamily family, TsvMergeOptions options) => Merge(family, options);

    /// <summary>ISO-C: per matrix, Σ τ with its singular spectrum flattened to its mean (Marczak et al. 2025, arXiv:2502.04959).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="scale">λ. Default 1.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator IsoC(MergeFamily family, double? scale = null, string? task = null)
    {
        var options = new IsoCOptions { Task = task };
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>ISO-C: per matrix, Σ τ with its singular spectrum flattened to its mean (Marczak et al. 2025,
    /// arXiv:2502.04959), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator IsoC(MergeFamily family, IsoCOptions options) => Merge(family, options);

    /// <summary>ISO-CTS: ISO-C's common subspace plus task-specific directions orthogonal to it, flat spectrum
    /// (Marczak et al. 2025, arXiv:2502.04959).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="scale">λ. Default 1.</param>
    /// <param name="commonSpaceFraction">Share of min(m, n) given to the common subspace. Default 0.8.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator IsoCts(MergeFamily family, double? scale = null, double? commonSpaceFraction = null, string? task = null)
    {
        var options = new IsoCtsOptions { Task = task };
        if (scale is { } scaleValue) options.Scale = scaleValue;
        if (commonSpaceFraction is { } fraction) options.CommonSpaceFraction = fraction;
        return Merge(family, options);
    }

    /// <summary>ISO-CTS: ISO-C's common subspace plus task-specific directions orthogonal to it, flat spectrum
    /// (Marczak et al. 2025, arXiv:2502.04959), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator IsoCts(MergeFamily family, IsoCtsOptions options) => Merge(family, options);

    /// <summary>WUDI-Merging: per matrix, data-free Adam steps from Σ τ on each task's interference seen by its own rows
    /// (Cheng et al. 2025, arXiv:2503.08099).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="iterations">Adam steps per matrix. Default 300.</param>
    /// <param name="learningRate">Adam's learning rate. Default 1e-5.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Wudi(MergeFamily family, int? iterations = null, double? learningRate = null, string? task = null)
    {
        var options = new WudiOptions { Task = task };
        if (iterations is { } iterationsValue) options.Iterations = iterationsValue;
        if (learningRate is { } rate) options.LearningRate = rate;
        return Merge(family, options);
    }

    /// <summary>WUDI-Merging: per matrix, data-free Adam steps from Σ τ on each task's interference seen by its own rows
    /// (Cheng et al. 2025, arXiv:2503.08099), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Wudi(MergeFamily family, WudiOptions options) => Merge(family, options);

    /// <summary>LiNeS: task arithmetic's multi-task vector scaled α + β·ℓ/(L−1) by block depth (Wang et al. 2025, arXiv:2410.17146).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="beta">β, the scale's increase from the first block to the last. Default 0.5.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Lines(MergeFamily family, double? beta = null, string? task = null)
    {
        var options = new LinesOptions { Task = task };
        if (beta is { } betaValue) options.Beta = betaValue;
        return Merge(family, options);
    }

    /// <summary>LiNeS: the multi-task vector of task arithmetic or TIES scaled α + β·ℓ/(L−1) by block depth
    /// (Wang et al. 2025, arXiv:2410.17146), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Lines(MergeFamily family, LinesOptions options) => Merge(family, options);
}
