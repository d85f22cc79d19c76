using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
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
        MethodParameter.Integer("iterations", 300, "Adam steps per matrix.", 0, 100000) with { Aliases = [new("iter_num")] },
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
                AdamStep(xs, grad.AsSpan(0, size), mom.AsSpan(0, size), vel.AsSpan(0, size), step, learningRate, maxThreads);
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
    /// <c>x ← x − (lr/(1 − βᵗ1)) · m / (√v / √(1 − βᵗ2) + ε)</c>, fused in one sweep, vectorised and split over up to
    /// <paramref name="maxThreads"/> threads for large tensors. Each element gets the same float32 operations in the same
    /// order on every path (separate multiplies and adds, IEEE square root and division), so the bits do not depend on
    /// the vector width or the thread count.
    /// </summary>
    internal static void AdamStep(Span<float> x, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, int step, double learningRate, int maxThreads = 1)
    {
        var c = new AdamConstants(step, learningRate);
        int parts = Math.Clamp(Math.Min(maxThreads, x.Length / ParallelChunk), 1, Environment.ProcessorCount);
        if (parts == 1)
        {
            AdamSweep(x, grad, m, v, c);
            return;
        }
        unsafe
        {
            fixed (float* px = x, pg = grad, pm = m, pv = v)
            {
                nint ax = (nint)px, ag = (nint)pg, am = (nint)pm, av = (nint)pv;
                int length = x.Length, chunk = (length / parts + 15) & ~15;
                Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
                {
                    int start = part * chunk, count = Math.Min(chunk, length - start);
                    if (count <= 0) return;
                    AdamSweep(new Span<float>((float*)ax + start, count), new ReadOnlySpan<float>((float*)ag + start, count),
                        new Span<float>((float*)am + start, count), new Span<float>((float*)av + start, count), c);
                });
            }
        }
    }

    /// <summary>Elements per thread below which a step runs on one thread.</summary>
    private const int ParallelChunk = 1 << 18;

    private readonly struct AdamConstants(int step, double learningRate)
    {
        public readonly float StepSize = (float)(learningRate / (1.0 - Math.Pow(Beta1, step)));
        public readonly float Bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(Beta2, step));
        public readonly float B1 = (float)Beta1, B2 = (float)Beta2, OneMinusB1 = (float)(1 - Beta1), OneMinusB2 = (float)(1 - Beta2);
    }

    private static void AdamSweep(Span<float> x, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamConstants c)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b1 = Vector512.Create(c.B1); var b2 = Vector512.Create(c.B2);
            var o1 = Vector512.Create(c.OneMinusB1); var o2 = Vector512.Create(c.OneMinusB2);
            var bc = Vector512.Create(c.Bc2Sqrt); var eps = Vector512.Create(Epsilon); var lr = Vector512.Create(c.StepSize);
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var gi = Vector512.Create(grad.Slice(i, Vector512<float>.Count));
                var mi = Vector512.Create(m.Slice(i, Vector512<float>.Count)) * b1 + o1 * gi;
                var vi = Vector512.Create(v.Slice(i, Vector512<float>.Count)) * b2 + o2 * gi * gi;
                mi.CopyTo(m.Slice(i));
                vi.CopyTo(v.Slice(i));
                var xi = Vector512.Create(x.Slice(i, Vector512<float>.Count));
                (xi - lr * (mi / (Vector512.Sqrt(vi) / bc + eps))).CopyTo(x.Slice(i));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var b1 = Vector256.Create(c.B1); var b2 = Vector256.Create(c.B2);
            var o1 = Vector256.Create(c.OneMinusB1); var o2 = Vector256.Create(c.OneMinusB2);
            var bc = Vector256.Create(c.Bc2Sqrt); var eps = Vector256.Create(Epsilon); var lr = Vector256.Create(c.StepSize);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var gi = Vector256.Create(grad.Slice(i, Vector256<float>.Count));
                var mi = Vector256.Create(m.Slice(i, Vector256<float>.Count)) * b1 + o1 * gi;
                var vi = Vector256.Create(v.Slice(i, Vector256<float>.Count)) * b2 + o2 * gi * gi;
                mi.CopyTo(m.Slice(i));
                vi.CopyTo(v.Slice(i));
                var xi = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                (xi - lr * (mi / (Vector256.Sqrt(vi) / bc + eps))).CopyTo(x.Slice(i));
            }
        }
        for (; i < x.Length; i++)
        {
            float gi = grad[i];
            float mi = m[i] * c.B1 + c.OneMinusB1 * gi;
            float vi = v[i] * c.B2 + c.OneMinusB2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            x[i] -= c.StepSize * (mi / (MathF.Sqrt(vi) / c.Bc2Sqrt + Epsilon));
        }
    }
}
