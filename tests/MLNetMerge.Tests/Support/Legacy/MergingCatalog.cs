using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Tests;

/// <summary>The merge methods, one entry with simple parameters and one with an <c>Options</c> class each (ML.NET's catalog habit).</summary>
internal sealed class MergingCatalog
{
    private readonly MergeContext _ctx;

    internal MergingCatalog(MergeContext ctx) => _ctx = ctx;

    /// <summary>Any registered method by recipe name with recipe-style parameters.</summary>
    public IMergeEstimator Method(string name, IReadOnlyDictionary<string, ParameterValue>? parameters = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>>? modelParameters = null)
    {
        var (method, implied) = MergeMethods.Find(name);
        var p = new Dictionary<string, ParameterValue>(parameters ?? new Dictionary<string, ParameterValue>());
        foreach (var (k, v) in implied) p.TryAdd(k, new ParameterValue.Text(v));
        return new MergeEstimator(method, p, modelParameters, _ctx.Seed);
    }

    /// <summary>Weight averaging, <c>(1/T) Σ θt</c>.</summary>
    public IMergeEstimator WeightAverage() => Make<WeightAverage>([]);

    /// <summary>Task arithmetic, <c>θ0 + λ Σ τt</c>.</summary>
    public IMergeEstimator TaskArithmetic(double scale = 0.3) => TaskArithmetic(new TaskArithmeticOptions { Scale = scale });

    /// <summary>Task arithmetic with options.</summary>
    public IMergeEstimator TaskArithmetic(TaskArithmeticOptions options) => Make<TaskArithmetic>([("scale", N(options.Scale))], options.Weights);

    /// <summary>TIES: trim, elect sign, disjoint mean.</summary>
    public IMergeEstimator Ties(double keep = 0.2, double scale = 1.0) => Ties(new TiesOptions { Keep = keep, Scale = scale });

    /// <summary>TIES with options.</summary>
    public IMergeEstimator Ties(TiesOptions options)
    {
        var p = new List<(string, ParameterValue)> { ("keep", N(options.Keep)), ("merge", T(options.SumMerge ? "sum" : "mean")), ("trim", T(options.PerTensorTrim ? "tensor" : "global")) };
        if (options.Scale is { } s) p.Add(("scale", N(s)));
        return Make<Ties>(p, options.Weights);
    }

    /// <summary>DARE over task arithmetic.</summary>
    public IMergeEstimator Dare(double drop = 0.5, string merge = "ta") => Dare(new DareOptions { Drop = drop, Merge = merge });

    /// <summary>DARE with options.</summary>
    public IMergeEstimator Dare(DareOptions options)
    {
        var p = new List<(string, ParameterValue)> { ("drop", N(options.Drop)), ("rescale", T(options.Rescale ? "true" : "false")), ("merge", T(options.Merge)) };
        if (options.Scale is { } s) p.Add(("scale", N(s)));
        if (options.Keep is { } k) p.Add(("keep", N(k)));
        return Make<Dare>(p, options.Weights);
    }

    /// <summary>MagMax: largest-magnitude task-vector entry per element.</summary>
    public IMergeEstimator MagMax(double scale = 1.0) => Make<MagMax>([("scale", N(scale))]);

    /// <summary>Consensus merging (TALL masks voting).</summary>
    public IMergeEstimator Consensus(double kappa = 0.4, int k = 2, double scale = 0.3) => Consensus(new ConsensusOptions { Kappa = kappa, K = k, Scale = scale });

    /// <summary>Consensus merging, or per-task TALL models, with options.</summary>
    public IMergeEstimator Consensus(ConsensusOptions options) => options.PerTask
        ? Make<Tall>([("kappa", N(options.Kappa)), ("scale", N(options.Scale))])
        : Make<Consensus>([("kappa", N(options.Kappa)), ("k", N(options.K)), ("scale", N(options.Scale))]);

    /// <summary>EMR-Merging: unified vector, per-task masks and rescalers.</summary>
    public IMergeEstimator Emr() => Emr(new EmrOptions());

    /// <summary>EMR-Merging with options (ablations, masks and rescalers over TA or TIES).</summary>
    public IMergeEstimator Emr(EmrOptions options) =>
        Make<Emr>([("mode", T(options.Mode)), ("merge", T(options.Merge)), ("rescaler", T(options.Rescaler))]);

    /// <summary>CART: centered low-rank task arithmetic around the average.</summary>
    public IMergeEstimator Cart(double rankRatio = 0.12, double scale = 2.0) => Cart(new CartOptions { RankRatio = rankRatio, Scale = scale });

    /// <summary>CART with options (per-task "indexing" variant).</summary>
    public IMergeEstimator Cart(CartOptions options)
    {
        var p = new List<(string, ParameterValue)> { ("rank_ratio", N(options.RankRatio)), ("scale", N(options.Scale)) };
        return options.PerTask ? Make<CartIndexing>(p) : Make<Cart>(p);
    }

    /// <summary>SLERP of two models at <paramref name="t"/>.</summary>
    public IMergeEstimator Slerp(double t = 0.5) => Make<Slerp>([("t", N(t))]);

    /// <summary>Model Stock.</summary>
    public IMergeEstimator ModelStock() => Make<ModelStock>([]);

    /// <summary>Model Breadcrumbs.</summary>
    public IMergeEstimator Breadcrumbs(double density = 0.9, double gamma = 0.01, double scale = 0.3) =>
        Make<Breadcrumbs>([("density", N(density)), ("gamma", N(gamma)), ("scale", N(scale))]);

    /// <summary>DELLA.</summary>
    public IMergeEstimator Della(double density = 0.7, double epsilon = 0.15, double scale = 1.0) =>
        Make<Della>([("density", N(density)), ("epsilon", N(epsilon)), ("scale", N(scale))]);

    private static ParameterValue N(double v) => new ParameterValue.Scalar(v);

    private static ParameterValue T(string v) => new ParameterValue.Text(v);

    private IMergeEstimator Make<TMethod>(IEnumerable<(string, ParameterValue)> parameters, IReadOnlyDictionary<string, double>? weights = null)
        where TMethod : MergeMethod
    {
        var method = MergeMethods.All.OfType<TMethod>().Single();
        var perModel = (weights ?? new Dictionary<string, double>()).ToDictionary(kv => kv.Key,
            kv => (IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue> { ["weight"] = N(kv.Value) });
        return new MergeEstimator(method, parameters.ToDictionary(p => p.Item1, p => p.Item2), perModel, _ctx.Seed);
    }
}
