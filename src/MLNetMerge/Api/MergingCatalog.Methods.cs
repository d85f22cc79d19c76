namespace MLNetMerge;

// The merge methods of the catalog: per method a short overload (its main settings; null keeps the declared default) and
// one taking the method's Options; both funnel into Merge(MergeFamily, MergeOptions).
public sealed partial class MergingCatalog
{

    /// <summary>Weight averaging, <c>(1/T) Σ θt</c> (Wortsman et al. 2022, model soups, arXiv:2203.05482).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator WeightAverage(MergeFamily family, string? task = null) => Merge(family, new WeightAverageOptions { Task = task });

    /// <summary>Weight averaging, <c>(1/T) Σ θt</c> (Wortsman et al. 2022, model soups, arXiv:2203.05482), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator WeightAverage(MergeFamily family, WeightAverageOptions options) => Merge(family, options);

    /// <summary>Task arithmetic, <c>θ0 + λ Σ wt τt</c> (Ilharco et al. 2023, arXiv:2212.04089).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="scale">λ: multiplies the combined task vector. Default 0.3.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator TaskArithmetic(MergeFamily family, double? scale = null, string? task = null)
    {
        var options = new TaskArithmeticOptions { Task = task };
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>Task arithmetic, <c>θ0 + λ Σ wt τt</c> (Ilharco et al. 2023, arXiv:2212.04089), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator TaskArithmetic(MergeFamily family, TaskArithmeticOptions options) => Merge(family, options);

    /// <summary>TIES-Merging: trim, elect sign, disjoint merge (Yadav et al. 2023, arXiv:2306.01708).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="keep">Fraction of each task vector kept by magnitude. Default 0.2.</param>
    /// <param name="scale">λ; null: 1.0 with <see cref="TiesMerge.Mean"/>, 0.3 with <see cref="TiesMerge.Sum"/>.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Ties(MergeFamily family, double? keep = null, double? scale = null, string? task = null)
    {
        var options = new TiesOptions { Task = task };
        if (keep is { } keepValue) options.Keep = keepValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>TIES-Merging: trim, elect sign, disjoint merge (Yadav et al. 2023, arXiv:2306.01708), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Ties(MergeFamily family, TiesOptions options) => Merge(family, options);

    /// <summary>DARE: drop and rescale, then a base merge (Yu et al. 2024, arXiv:2311.03099).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="drop">Drop probability p. Default 0.5.</param>
    /// <param name="scale">λ; null: 0.3 over task arithmetic, 1.0 over averaging and TIES.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Dare(MergeFamily family, double? drop = null, double? scale = null, string? task = null)
    {
        var options = new DareOptions { Task = task };
        if (drop is { } dropValue) options.Drop = dropValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>DARE: drop and rescale, then a base merge (Yu et al. 2024, arXiv:2311.03099), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Dare(MergeFamily family, DareOptions options) => Merge(family, options);

    /// <summary>MagMax: the largest-magnitude task-vector entry per element (Marczak et al. 2024, arXiv:2407.06322).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator MagMax(MergeFamily family, string? task = null) => Merge(family, new MagMaxOptions { Task = task });

    /// <summary>MagMax: the largest-magnitude task-vector entry per element (Marczak et al. 2024, arXiv:2407.06322), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator MagMax(MergeFamily family, MagMaxOptions options) => Merge(family, options);

    /// <summary>Consensus merging: TALL masks vote, elements kept by at least k tasks (Wang et al. 2024, arXiv:2405.07813).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Consensus(MergeFamily family, string? task = null) => Merge(family, new ConsensusOptions { Task = task });

    /// <summary>Consensus merging: TALL masks vote, elements kept by at least k tasks (Wang et al. 2024, arXiv:2405.07813), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Consensus(MergeFamily family, ConsensusOptions options) => Merge(family, options);

    /// <summary>TALL masks: each task its own masked copy of the merge (Wang et al. 2024, arXiv:2405.07813).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="kappa">κ: mask threshold factor. Default 0.4.</param>
    /// <param name="scale">λ. Default 0.3.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Tall(MergeFamily family, double? kappa = null, double? scale = null, string? task = null)
    {
        var options = new TallOptions { Task = task };
        if (kappa is { } kappaValue) options.Kappa = kappaValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>TALL masks: each task its own masked copy of the merge (Wang et al. 2024, arXiv:2405.07813), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Tall(MergeFamily family, TallOptions options) => Merge(family, options);

    /// <summary>EMR-Merging: elect a unified vector, mask and rescale per task (Huang et al. 2024, arXiv:2405.17461).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Emr(MergeFamily family, string? task = null) => Merge(family, new EmrOptions { Task = task });

    /// <summary>EMR-Merging: elect a unified vector, mask and rescale per task (Huang et al. 2024, arXiv:2405.17461), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Emr(MergeFamily family, EmrOptions options) => Merge(family, options);

    /// <summary>CART: centered task vectors around the average, each block matrix truncated to low rank (Choi et al. 2024, arXiv:2412.12153).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="rankRatio">r / min(m, n) of each block matrix's truncated SVD. Default 0.12.</param>
    /// <param name="scale">λ. Default 2.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Cart(MergeFamily family, double? rankRatio = null, double? scale = null, string? task = null)
    {
        var options = new CartOptions { Task = task };
        if (rankRatio is { } rankRatioValue) options.RankRatio = rankRatioValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>CART: centered task vectors around the average, each block matrix truncated to low rank (Choi et al. 2024, arXiv:2412.12153), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Cart(MergeFamily family, CartOptions options) => Merge(family, options);

    /// <summary>CART indexing: one model per task, <c>θavg + λ lowrank(ct)</c> (Choi et al. 2024, arXiv:2412.12153).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator CartIndexing(MergeFamily family, string? task = null) => Merge(family, new CartIndexingOptions { Task = task });

    /// <summary>CART indexing: one model per task, <c>θavg + λ lowrank(ct)</c> (Choi et al. 2024, arXiv:2412.12153), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator CartIndexing(MergeFamily family, CartIndexingOptions options) => Merge(family, options);

    /// <summary>Spherical linear interpolation of two models (Shoemake 1985; as mergekit applies it).</summary>
    /// <param name="family">The base and exactly two fine-tuned checkpoints.</param>
    /// <exception cref="ArgumentException">The family does not hold exactly two fine-tuned models.</exception>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Slerp(MergeFamily family, string? task = null) => Merge(family, new SlerpOptions { Task = task });

    /// <summary>Spherical linear interpolation of two models (Shoemake 1985; as mergekit applies it), with every setting.</summary>
    /// <param name="family">The base and exactly two fine-tuned checkpoints.</param>
    /// <exception cref="ArgumentException">The family does not hold exactly two fine-tuned models.</exception>
    /// <param name="options">The settings.</param>
    public MergeEstimator Slerp(MergeFamily family, SlerpOptions options) => Merge(family, options);

    /// <summary>Model Stock: interpolation toward the base by the task vectors' angle (Jang et al. 2024, arXiv:2403.19522).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator ModelStock(MergeFamily family, string? task = null) => Merge(family, new ModelStockOptions { Task = task });

    /// <summary>Model Stock: interpolation toward the base by the task vectors' angle (Jang et al. 2024, arXiv:2403.19522), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator ModelStock(MergeFamily family, ModelStockOptions options) => Merge(family, options);

    /// <summary>Model Breadcrumbs: drop the smallest and the largest magnitudes (Davari &amp; Belilovsky 2024, arXiv:2312.06795).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Breadcrumbs(MergeFamily family, string? task = null) => Merge(family, new BreadcrumbsOptions { Task = task });

    /// <summary>Model Breadcrumbs: drop the smallest and the largest magnitudes (Davari &amp; Belilovsky 2024, arXiv:2312.06795), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Breadcrumbs(MergeFamily family, BreadcrumbsOptions options) => Merge(family, options);

    /// <summary>DELLA: magnitude-ranked drop probabilities, then TIES-style merging (Deep et al. 2024, arXiv:2406.11617).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Della(MergeFamily family, string? task = null) => Merge(family, new DellaOptions { Task = task });

    /// <summary>DELLA: magnitude-ranked drop probabilities, then TIES-style merging (Deep et al. 2024, arXiv:2406.11617), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Della(MergeFamily family, DellaOptions options) => Merge(family, options);

    /// <summary>PCB merging: intra- and inter-task competition scores select and weight each task's elements (Du et al. 2024, arXiv:2410.02396).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="keep">Fraction of each task vector's elements with the highest balance score kept. Default 0.1.</param>
    /// <param name="scale">λ. Default 0.3.</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Pcb(MergeFamily family, double? keep = null, double? scale = null, string? task = null)
    {
        var options = new PcbOptions { Task = task };
        if (keep is { } keepValue) options.Keep = keepValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>PCB merging (Du et al. 2024, arXiv:2410.02396), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Pcb(MergeFamily family, PcbOptions options) => Merge(family, options);

    /// <summary>TATR, task arithmetic in a trust region (data-free): task arithmetic outside the elements where the task
    /// vectors conflict most (Sun et al. 2025, arXiv:2501.15065).</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="quantile">Share of the model's elements, from the lowest conflict up, inside the trust region. Default 0.99.</param>
    /// <param name="scale">λ. Default 0.3 (task arithmetic inside the trust region).</param>
    /// <param name="task">The task the transformer serves; null: every task (columns suffixed <c>.{task}</c>).</param>
    public MergeEstimator Tatr(MergeFamily family, double? quantile = null, double? scale = null, string? task = null)
    {
        var options = new TatrOptions { Task = task };
        if (quantile is { } quantileValue) options.Quantile = quantileValue;
        if (scale is { } scaleValue) options.Scale = scaleValue;
        return Merge(family, options);
    }

    /// <summary>TATR, task arithmetic in a trust region (Sun et al. 2025, arXiv:2501.15065), with every setting.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="options">The settings.</param>
    public MergeEstimator Tatr(MergeFamily family, TatrOptions options) => Merge(family, options);
}
