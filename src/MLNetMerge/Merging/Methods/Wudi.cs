using System.Numerics.Tensors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// WUDI-Merging: per matrix (m, n), the merged update τ starts at the task-arithmetic sum <c>Σt τt</c> and takes
/// <c>iterations</c> Adam steps on <c>L(τ) = Σt ‖(τ − τt) τtᵀ‖²_F / ‖τt‖²_F</c> (each task vector's own rows stand in
/// for the inputs its layer sees); <c>θ = θ0 + τ</c>. Every other tensor gets <c>θ0 + mean τ</c>. Data-free; the result
/// follows the Adam trajectory, not only the minimiser. Cheng et al. 2025, "Whoever Started the Interference Should End
/// It: Guiding Data-Free Model Merging via Task Vectors", ICML, arXiv:2503.08099. Math: docs/methods/wudi.md.
/// </summary>
internal sealed class Wudi : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "wudi";

    /// <inheritdoc />
    public override string Reference => "Cheng et al. 2025, Whoever Started the Interference Should End It (WUDI-Merging), arXiv:2503.08099";

    /// <inheritdoc />
    public override string Summary => "per matrix: Adam on Σ ‖(τ − τt) τtᵀ‖² / ‖τt‖² from Σ τ";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("iterations", 300, "Adam steps per matrix.", 0, 100000) with { Aliases = [new("iter_num")] },
        MethodParameter.Number("learning_rate", 1e-5, "Adam's learning rate (betas 0.9, 0.999, ε 1e-8, no weight decay).", 0, 1) with { Aliases = [new("lr")] },
        MatrixMerge.MatricesParameter(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        MatrixMerge.RequireMatrices(plan, parameters, Name);
        return new Run(parameters.Choice("matrices"));
    }

    private sealed class Run(string rule) : MergeRun
    {
        /// <summary>One tensor at a time, its GEMMs on every thread: memory holds one tensor's T task buffers, not one set per worker.</summary>
        internal override bool ParallelWithinTensor => true;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            if (!MatrixMerge.IsMatrix(ctx.Info, rule))
            {
                MatrixMerge.MeanUpdate(ctx, 1f, output);
                return;
            }
            int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
            var tau = new float[ctx.TaskCount][];
            for (int t = 0; t < tau.Length; t++) tau[t] = ctx.TaskArrays[t];
            WudiSolver.Solve(tau, m, n, (int)ctx.Number("iterations"), ctx.Number("learning_rate"), ctx.Scratch, ctx.MaxThreads);
            TensorPrimitives.Add(ctx.Scratch, ctx.Base, output);
        }
    }
}

/// <summary>WUDI's per-matrix optimisation, <see cref="Solve"/>.</summary>
internal static class WudiSolver
{
    private const double Beta1 = 0.9, Beta2 = 0.999;
    private const float Epsilon = 1e-8f;

    /// <summary>
    /// Writes the merged update τ (m, n) into <paramref name="merged"/>. With <c>ct = 1/‖τt‖²</c> (tasks with a zero
    /// τt are skipped: their term is 0/0), <c>G = Σ ct τtᵀτt</c> (n, n) and <c>B = Σ ct τt (τtᵀτt)</c> (m, n), the
    /// gradient of L is <c>2(τ G − B)</c>, one GEMM per step. τ starts at <c>Σt τt</c> (every task, as the authors' code).
    /// The GEMMs use up to <paramref name="maxThreads"/> threads (same result for any value).
    /// </summary>
    internal static void Solve(float[][] tau, int m, int n, int iterations, double learningRate, Span<float> merged, int maxThreads = int.MaxValue)
    {
        int size = m * n;
        var pool = BufferPool<float>.Shared;
        float[] g = pool.Rent((long)n * n);       // (n, n) Σ ct τtᵀτt
        float[] gt = pool.Rent((long)n * n);      // (n, n) one task's ct τtᵀτt
        float[] b = pool.Rent(size);              // (m, n) Σ ct τt τtᵀτt
        float[] grad = pool.Rent(size);           // (m, n) ∂L/∂τ
        float[] x = pool.Rent(size);              // (m, n) τ
        float[] mom = pool.Rent(size);            // (m, n) Adam's first moment
        float[] vel = pool.Rent(size);            // (m, n) Adam's second moment
        try
        {
            var xs = x.AsSpan(0, size);
            xs.Clear();
            Array.Clear(g, 0, n * n);
            b.AsSpan(0, size).Clear();
            foreach (var t in tau)
            {
                var ts = t.AsSpan(0, size);
                TensorPrimitives.Add(xs, ts, xs);
                double norm2 = 0;
                foreach (float v in ts) norm2 += (double)v * v;
                if (norm2 == 0) continue;
                float c = (float)(1.0 / norm2);
                Gemm.Multiply(true, false, n, n, m, c, t, n, t, n, 0f, gt, n, maxThreads);      // ct τtᵀτt   (n, n)
                TensorPrimitives.Add(g.AsSpan(0, n * n), gt.AsSpan(0, n * n), g.AsSpan(0, n * n));
                Gemm.Multiply(false, false, m, n, n, 1f, t, n, gt, n, 1f, b, n, maxThreads);    // B += τt (ct τtᵀτt)
            }
            mom.AsSpan(0, size).Clear();
            vel.AsSpan(0, size).Clear();
            for (int step = 1; step <= iterations; step++)
            {
                b.AsSpan(0, size).CopyTo(grad);
                Gemm.Multiply(false, false, m, n, n, 2f, x, n, g, n, -2f, grad, n, maxThreads);   // 2(τ G − B)
                AdamStep(xs, grad.AsSpan(0, size), mom.AsSpan(0, size), vel.AsSpan(0, size), step, learningRate);
            }
            xs.CopyTo(merged);
        }
        finally
        {
            foreach (var a in new[] { g, gt, b, grad, x, mom, vel }) pool.Return(a);
        }
    }

    /// <summary>
    /// One Adam step as torch.optim.Adam's single-tensor path computes it in float32 (step t from 1):
    /// <c>m ← β1 m + (1 − β1) g</c>, <c>v ← β2 v + (1 − β2) g²</c>,
    /// <c>x ← x − (lr/(1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)</c>, fused in one sweep.
    /// </summary>
    internal static void AdamStep(Span<float> x, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, int step, double learningRate)
    {
        float stepSize = (float)(learningRate / (1.0 - Math.Pow(Beta1, step)));
        float bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(Beta2, step));
        float b1 = (float)Beta1, b2 = (float)Beta2, oneMinusB1 = (float)(1 - Beta1), oneMinusB2 = (float)(1 - Beta2);
        for (int i = 0; i < x.Length; i++)
        {
            float gi = grad[i];
            float mi = m[i] * b1 + oneMinusB1 * gi;
            float vi = v[i] * b2 + oneMinusB2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            x[i] -= stepSize * (mi / (MathF.Sqrt(vi) / bc2Sqrt + Epsilon));
        }
    }
}
