using System.Numerics.Tensors;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// What the per-matrix subspace merges (TSV-M, ISO-C, ISO-CTS, WUDI) share: which tensors count as matrices, the
/// loud refusal of a family with none, the per-model weights, and the task-arithmetic mean every other tensor gets.
/// </summary>
internal static class MatrixMerge
{
    /// <summary>The <c>matrices</c> choice: every 2-D tensor (FusionBench's rule, the papers' code) or CART's block rule.</summary>
    public static MethodParameter MatricesParameter() => MethodParameter.Choice("matrices",
        "Which tensors are merged as matrices: every 2-D tensor (all_2d, the papers' code) or only 2-D weights inside numbered blocks, not norms or embeddings (blocks, CART's rule); every other tensor gets θ0 + λ·mean τ.",
        "all_2d", "blocks");

    /// <summary>
    /// <c>power_iterations</c> of the per-task truncated SVDs (<see cref="TopTriplets"/>), default 12 with
    /// <see cref="FilterDegreeParameter"/> 3: TSV-M and ISO-CTS keep the vectors themselves, cut where a task vector's
    /// spectrum is already flat noise, and there the subspace converges slowly. On the merge benchmark's task vectors
    /// (54 matrices, k = min(m, n)/8) 12 products through the degree-3 filter leave the top-k part as close to the exact
    /// SVD's (e2 median 8.8e-5, worst 2.2e-3) as 13 at degree 2 did (7.0e-5, 2.1e-3), with four orthonormalisations
    /// instead of seven: ~9 % less CPU (docs/truncated-svd.md).
    /// </summary>
    public static MethodParameter PowerIterationsParameter() =>
        MethodParameter.Integer("power_iterations", 12, "Products by the Gram matrix in the per-task truncated SVD's subspace iteration (each one power step of τ τᵀ).", 0, 50);

    /// <summary><c>filter_degree</c> of the per-task truncated SVDs: the Chebyshev filter's products between orthonormalisations (see <see cref="PowerIterationsParameter"/>).</summary>
    public static MethodParameter FilterDegreeParameter() =>
        MethodParameter.Integer("filter_degree", 3, "Products by the Gram matrix between orthonormalisations: the degree of the Chebyshev filter of the per-task truncated SVD (1: the shifted power iteration).", 1, 8);

    /// <summary>
    /// The top <paramref name="k"/> singular triplets of <paramref name="a"/> (m, n) that TSV-M and ISO-CTS keep: subspace
    /// iteration on the Gram matrix of the short side (<see cref="GramSubspaceSvd"/>; one product forms G, then each of
    /// the <c>power_iterations</c> steps costs k²·l instead of a power step's 2·l·m·n), sketch k + 64, the shift of
    /// the Chebyshev filter of <see cref="GramSubspaceSvd"/> (degree from the recipe), seeded per tensor.
    /// </summary>
    public static LowRankFactors TopTriplets(ReadOnlySpan<float> a, int m, int n, int k, RandomizedSvdSettings settings, int maxThreads = int.MaxValue) =>
        GramSubspaceSvd.Compute(a, m, n, k, TopTripletsOversampling, settings.PowerIterations, settings.Seed, maxThreads: maxThreads,
            degree: settings.FilterDegree);

    /// <summary>
    /// Runs <paramref name="body"/>(t) for t &lt; <paramref name="count"/> on up to <paramref name="maxThreads"/> threads, passing
    /// each call the threads its own products may use (1 when the calls run side by side). The per-matrix methods run one
    /// tensor at a time (<see cref="MergeRun.ParallelWithinTensor"/>) and spread its independent SVDs this way; every
    /// call computes the same bits on any thread, so the result does not depend on the thread count.
    /// </summary>
    public static void SideBySide(int count, int maxThreads, Action<int, int> body)
    {
        int threads = Math.Clamp(maxThreads, 1, Math.Max(1, count));
        if (threads == 1)
        {
            for (int t = 0; t < count; t++) body(t, maxThreads);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => body(t, 1));
    }

    /// <summary>Extra sketch columns of <see cref="TopTriplets"/> (the randomized SVD's default, kept).</summary>
    internal const int TopTripletsOversampling = RandomizedSvd.DefaultOversampling;

    /// <summary>True when <paramref name="tensor"/> is merged as a matrix under <paramref name="rule"/>.</summary>
    public static bool IsMatrix(TensorInfo tensor, string rule) =>
        rule == "blocks" ? CartShared.IsBlockMatrix(tensor) : tensor.Shape.Length == 2 && tensor.Shape[0] > 0 && tensor.Shape[1] > 0;

    /// <summary>Refuses a family in which no merged tensor is a matrix under the rule: the method would silently be an average.</summary>
    /// <exception cref="IncompatibleModelsException">No merged tensor qualifies.</exception>
    public static void RequireMatrices(MergePlan plan, MergeParameters parameters, string method)
    {
        string rule = parameters.Choice("matrices");
        if (plan.Tensors.Any(t => IsMatrix(t, rule))) return;
        string shapes = string.Join(", ", plan.Tensors.Take(6).Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]"));
        throw new IncompatibleModelsException(null, null,
            $"method '{method}' merges 2-D weight matrices (matrices: {rule}), but none of the family's {plan.Tensors.Count} merged tensors is one ({shapes}{(plan.Tensors.Count > 6 ? ", …" : "")}); {(rule == "blocks" ? "set matrices: all_2d, or " : "")}use task_arithmetic.");
    }

    /// <summary>Per-model weights w_t for this tensor.</summary>
    public static float[] Weights(MergeTensorContext ctx)
    {
        var w = new float[ctx.TaskCount];
        for (int t = 0; t < w.Length; t++) w[t] = (float)ctx.Number("weight", t);
        return w;
    }

    /// <summary>Multiplies every task buffer by its weight in place (τt ← w_t τt; skipped where w_t = 1).</summary>
    public static void ApplyWeights(MergeTensorContext ctx)
    {
        var w = Weights(ctx);
        for (int t = 0; t < w.Length; t++)
            if (w[t] != 1f) TensorPrimitives.Multiply(ctx.Task(t), w[t], ctx.Task(t));
    }

    /// <summary><c>output = θ0 + λ·(1/T) Σt τt</c> (the task buffers hold the weighted τt).</summary>
    public static void MeanUpdate(MergeTensorContext ctx, float lambda, Span<float> output)
    {
        output.Clear();
        for (int t = 0; t < ctx.TaskCount; t++) TensorPrimitives.Add(output, ctx.Task(t), output);
        TensorPrimitives.Multiply(output, lambda / ctx.TaskCount, output);
        TensorPrimitives.Add(output, ctx.Base, output);
    }

    /// <summary><c>sum = Σt τt</c> over the task buffers.</summary>
    public static void Sum(MergeTensorContext ctx, Span<float> sum)
    {
        sum.Clear();
        for (int t = 0; t < ctx.TaskCount; t++) TensorPrimitives.Add(sum, ctx.Task(t), sum);
    }

    /// <summary>
    /// The seed of a tensor's randomized SVDs: the stream <c>("{method}.sketch", 0, tensor)</c> of the recipe seed
    /// (<see cref="RandomStreams.Key"/>), shared by the tasks (so the same seed gives the same bits on every run and thread count).
    /// </summary>
    public static ulong SketchSeed(MergePlan plan, string method, string tensor) => RandomStreams.Key(plan.Seed, method + ".sketch", 0, tensor);
}
