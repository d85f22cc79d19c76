using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// CART (centered arithmetic with rank reduction): <c>θavg = θ0 + (1/T) Σ τt</c>, centered vectors
/// <c>ct = θt − θavg</c>; for each 2-D weight matrix inside a transformer block (not embeddings or norms) a truncated
/// SVD of rank <c>r = max(1, ⌊rank_ratio · min(m, n)⌋)</c> (0 when the ratio is 0) gives <c>θ = θavg + λ Σt lowrank_r(ct)</c>;
/// every other tensor ends at θavg (its full ct sum to zero). Rank 0 and full rank both give weight averaging.
/// Choi et al. 2024, "Revisiting Weight Averaging for Model Merging", arXiv:2412.12153.
/// </summary>
internal sealed class Cart : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "cart";

    /// <inheritdoc />
    public override string Reference => "Choi et al. 2024, Revisiting Weight Averaging for Model Merging (CART), arXiv:2412.12153";

    /// <inheritdoc />
    public override string Summary => "θavg + λ Σ low-rank centered task vectors";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = CartShared.Parameters;

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new CartRun(CartShared.RequireBlockMatrices(plan, Name), parameters, perTask: false);
}

/// <summary>
/// CART's per-task "indexing" variant: unified weights θavg plus, per task, the rank-r factors of its centered
/// matrices (and full ct of other tensors); task t runs with <c>θ̂t = θavg + λ lowrank_r(ct)</c>.
/// Choi et al. 2024, arXiv:2412.12153.
/// </summary>
internal sealed class CartIndexing : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "cart_indexing";

    /// <inheritdoc />
    public override string Reference => "Choi et al. 2024, Revisiting Weight Averaging for Model Merging (CART indexing), arXiv:2412.12153";

    /// <inheritdoc />
    public override string Summary => "per task: θavg + λ lowrank(ct)";

    /// <inheritdoc />
    public override bool IsPerTask => true;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = CartShared.Parameters;

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new CartRun(CartShared.RequireBlockMatrices(plan, Name), parameters, perTask: true);
}

internal static class CartShared
{
    public static readonly IReadOnlyList<MethodParameter> Parameters =
    [
        MethodParameter.Number("rank_ratio", 0.12, "r / min(m, n) of each block matrix's truncated SVD.", 0, 1) with { Aliases = [new("lowrank")] },
        CommonParameters.Scale(2.0),
        MethodParameter.Integer("power_iterations", MLNetMerge.Tensors.LinearAlgebra.GramSubspaceSvd.DefaultIterations, "Products by the Gram matrix in the truncated SVD's subspace iteration (each one power step of A Aᵀ).", 0, 50),
        MethodParameter.Integer("oversampling", MLNetMerge.Tensors.LinearAlgebra.GramSubspaceSvd.DefaultOversampling, "Extra sketch columns of the truncated SVD (sketch r + oversampling); larger brings the low-rank part closer to the exact SVD's at more cost (docs/truncated-svd.md).", 0, 1024),
        MethodParameter.Integer("filter_degree", MLNetMerge.Tensors.LinearAlgebra.GramSubspaceSvd.DefaultDegree, "Products by the Gram matrix between orthonormalisations: the degree of the Chebyshev filter of the truncated SVD (1: the shifted power iteration).", 1, 8),
    ];

    /// <summary>True for a 2-D weight of an attention or MLP block: inside a numbered block, not an embedding or norm.</summary>
    public static bool IsBlockMatrix(TensorInfo t) =>
        t.Shape.Length == 2 && LayerIndex.Of(t.Name) >= 0
        && !t.Name.Contains("norm", StringComparison.OrdinalIgnoreCase) && !t.Name.Contains("embed", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Refuses a family where no merged tensor is a block matrix (<see cref="IsBlockMatrix"/>): CART would silently be
    /// weight averaging (every centered vector sums to zero), so it fails naming the rule and what to use instead.
    /// </summary>
    /// <exception cref="IncompatibleModelsException">No tensor matches the block rule.</exception>
    public static MergePlan RequireBlockMatrices(MergePlan plan, string method)
    {
        if (plan.Tensors.Any(IsBlockMatrix)) return plan;
        string examples = string.Join(", ", plan.Tensors.Take(3).Select(t => $"'{t.Name}' {t.ShapeText}"));
        throw new IncompatibleModelsException(null, null,
            $"{method}: no merged tensor is a block matrix (2-D, a layer index in its name such as 'layers.3.', no 'norm' or 'embed'; here: {examples}{(plan.Tensors.Count > 3 ? ", …" : "")}), so {method} would be plain weight averaging; use method weight_average, or rename the tensors.");
    }

    /// <summary>The rank for a matrix: <c>⌊ratio·min(m,n)⌋</c>, at least 1 when ratio &gt; 0.</summary>
    public static int Rank(double ratio, int m, int n)
    {
        if (ratio <= 0) return 0;
        return Math.Max(1, (int)Math.Floor(ratio * Math.Min(m, n)));
    }
}

/// <summary>
/// The run of <see cref="Cart"/> and <see cref="CartIndexing"/>. The executor hands it one tensor at a time
/// (<see cref="MergeRun.ParallelWithinTensor"/>): the T truncated SVDs of a tensor run side by side, one per thread, each
/// GEMM single-threaded, and their low-rank terms are added in task order, so the result does not depend on the thread
/// count, and only one tensor's θ0 and T task buffers are held at a time (not one set per worker).
/// </summary>
internal sealed class CartRun(MergePlan plan, MergeParameters parameters, bool perTask) : MergeRun
{
    internal override bool ParallelWithinTensor => true;

    /// <summary>Rank-r factors of every task's centered matrix, computed in parallel over tasks.</summary>
    private LowRankFactors[] AllFactors(MergeTensorContext ctx, int m, int n, int r)
    {
        int tasks = ctx.TaskCount;
        var factors = new LowRankFactors[tasks];
        MatrixMerge.SideBySide(tasks, ctx.MaxThreads, (t, threads) => factors[t] = LowRank.Compute(ctx.Task(t), m, n, r, Options(ctx, t), maxThreads: threads));
        return factors;
    }

    /// <summary>Elements per range of <see cref="Center"/>: the T + 2 slices of a range (576 KiB for eight tasks) stay in
    /// L2 through its 2T + 3 element-wise passes, which over whole tensors (9.4 MB each for fc1) ran from memory.</summary>
    private const int CenterRange = 1 << 14;

    /// <summary>
    /// θavg into the scratch buffer; each task buffer becomes ct = τt − mean τ. Element-wise, range by range, the ranges
    /// on up to <see cref="MergeTensorContext.MaxThreads"/> threads (the run holds one tensor at a time, so the other cores
    /// would wait): every element sees the same operations in the same order, so the bits do not depend on the ranges.
    /// </summary>
    private static void Center(MergeTensorContext ctx)
    {
        int length = ctx.Length, ranges = (length + CenterRange - 1) / CenterRange;
        GemmWorkerPool.Shared.ForEach(ranges, ctx.MaxThreads, c =>
        {
            int start = c * CenterRange, count = Math.Min(CenterRange, length - start);
            CenterElements(ctx, start, count);
        });
    }

    /// <summary>Elements [start, start + count) of <see cref="Center"/>.</summary>
    private static void CenterElements(MergeTensorContext ctx, int start, int count)
    {
        int tasks = ctx.TaskCount;
        var avg = ctx.Scratch.Slice(start, count); // mean τ, then θavg
        avg.Clear();
        for (int t = 0; t < tasks; t++) System.Numerics.Tensors.TensorPrimitives.Add(avg, ctx.Task(t).Slice(start, count), avg);
        System.Numerics.Tensors.TensorPrimitives.Multiply(avg, 1f / tasks, avg); // mean τ
        for (int t = 0; t < tasks; t++)
        {
            var c = ctx.Task(t).Slice(start, count);
            System.Numerics.Tensors.TensorPrimitives.Subtract(c, avg, c);
        }
        System.Numerics.Tensors.TensorPrimitives.Add(avg, ctx.Base.Slice(start, count), avg); // θavg
    }

    public override void Prepare(MergeTensorContext ctx) => Center(ctx);

    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        ctx.Scratch.CopyTo(output);
        if (perTask || !CartShared.IsBlockMatrix(ctx.Info)) return;
        int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
        int r = CartShared.Rank(ctx.Number("rank_ratio"), m, n);
        if (r == 0 || r >= Math.Min(m, n)) return; // Σ ct = 0
        float lambda = (float)ctx.Number("scale");
        var factors = AllFactors(ctx, m, n, r);
        for (int t = 0; t < ctx.TaskCount; t++) factors[t].AddTo(output, lambda);
    }

    /// <summary>
    /// One sketch seed per tensor, shared by the tasks: the randomized SVD is then exactly odd (lowrank(−A) = −lowrank(A)),
    /// so with two tasks, where c2 = −c1, the low-rank terms cancel and CART is weight averaging, as the exact SVD gives.
    /// </summary>
    private CartSvdSettings Options(MergeTensorContext ctx, int t) =>
        new((int)ctx.Number("power_iterations"), (int)ctx.Number("oversampling"), (int)ctx.Number("filter_degree"),
            MatrixMerge.SketchSeed(plan, "cart", ctx.Name));

    public override IReadOnlyList<TensorEntry> ModulatorsFor(TensorInfo tensor)
    {
        if (!perTask) return [];
        return plan.TaskNames.SelectMany(task => ModulatorEntries(task, tensor)).ToList();
    }

    private IEnumerable<TensorEntry> ModulatorEntries(string task, TensorInfo tensor)
    {
        if (CartShared.IsBlockMatrix(tensor))
        {
            int m = tensor.Shape[0], n = tensor.Shape[1];
            int r = Math.Min(CartShared.Rank(RankRatio(tensor), m, n), Math.Min(m, n));
            yield return new TensorEntry($"lowrank.{task}.{tensor.Name}.left", DType.F32, [m, r]);
            yield return new TensorEntry($"lowrank.{task}.{tensor.Name}.right", DType.F32, [r, n]);
        }
        else yield return new TensorEntry($"delta.{task}.{tensor.Name}", DType.F32, tensor.Shape);
    }

    private double RankRatio(TensorInfo tensor) =>
        parameters.Number("rank_ratio", tensor.Name, LayerIndex.Of(tensor.Name), plan.LayerCount);

    public override void WriteModulators(MergeTensorContext ctx, ReadOnlySpan<float> merged, IModulatorWriter writer)
    {
        if (!CartShared.IsBlockMatrix(ctx.Info))
        {
            for (int t = 0; t < ctx.TaskCount; t++) writer.WriteFloat32($"delta.{plan.TaskNames[t]}.{ctx.Name}", ctx.Task(t));
            return;
        }
        int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
        int r = Math.Min(CartShared.Rank(ctx.Number("rank_ratio"), m, n), Math.Min(m, n));
        var factors = AllFactors(ctx, m, n, r);
        for (int t = 0; t < ctx.TaskCount; t++)
        {
            string task = plan.TaskNames[t];
            var left = new float[m * r];
            var right = new float[r * n];
            LowRank.Split(factors[t], left, right);
            writer.WriteFloat32($"lowrank.{task}.{ctx.Name}.left", left);
            writer.WriteFloat32($"lowrank.{task}.{ctx.Name}.right", right);
        }
    }

    public override void MaterializeTask(MergeTensorContext ctx, ReadOnlySpan<float> merged, int task, Span<float> output)
    {
        if (!perTask)
        {
            merged.CopyTo(output);
            return;
        }
        float lambda = (float)ctx.Number("scale");
        ctx.Scratch.CopyTo(output);
        if (!CartShared.IsBlockMatrix(ctx.Info))
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ctx.Task(task), lambda, output, output);
            return;
        }
        int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
        int r = Math.Min(CartShared.Rank(ctx.Number("rank_ratio"), m, n), Math.Min(m, n));
        if (r > 0) LowRank.Compute(ctx.Task(task), m, n, r, Options(ctx, task)).AddTo(output, lambda);
    }
}
