using System.Numerics.Tensors;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Layer normalisation over the last dimension:
/// <c>μ = mean(x)</c>, <c>σ² = mean((x − μ)²)</c> (biased), <c>r = 1/√(σ² + eps)</c>, <c>y = (x − μ)·r·γ + β</c>.
/// Backward with <c>x̂ = (x − μ)·r</c> and <c>g = dy·γ</c>: <c>dx = r·(g − mean(g) − x̂·mean(g·x̂))</c>,
/// <c>dγ += Σ dy·x̂</c>, <c>dβ += Σ dy</c>.
/// </summary>
internal static class LayerNorm
{
    /// <summary>Forward pass.</summary>
    /// <param name="y">Output (N, C).</param>
    /// <param name="mean">Cache: per-row mean (N).</param>
    /// <param name="rstd">Cache: per-row reciprocal standard deviation (N).</param>
    /// <param name="x">Input (N, C).</param>
    /// <param name="gamma">Scale (C).</param>
    /// <param name="beta">Shift (C).</param>
    /// <param name="n">Rows.</param>
    /// <param name="c">Features.</param>
    /// <param name="eps">Added to the variance (1e-12 in ViT and BERT, 1e-5 in CLIP).</param>
    public static void Forward<T>(Span<T> y, Span<T> mean, Span<T> rstd, ReadOnlySpan<T> x,
        ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, int n, int c, double eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && n > 1)
        {
            ForwardRows(MemoryMarshal.Cast<T, float>(y), MemoryMarshal.Cast<T, float>(mean), MemoryMarshal.Cast<T, float>(rstd),
                MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(gamma), MemoryMarshal.Cast<T, float>(beta), n, c, eps);
            return;
        }
        ForwardRange(y, mean, rstd, x, gamma, beta, 0, n, c, eps);
    }

    /// <summary>float32 forward with the rows split over the worker threads (each row's arithmetic is the same on any thread).</summary>
    private static unsafe void ForwardRows(Span<float> y, Span<float> mean, Span<float> rstd, ReadOnlySpan<float> x,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int n, int c, double eps)
    {
        if (y.Length < n * c || x.Length < n * c || mean.Length < n || rstd.Length < n || gamma.Length < c || beta.Length < c)
            throw new ArgumentException($"layer norm: buffers too short for ({n}, {c}).");
        fixed (float* py = y, pm = mean, pr = rstd, px = x, pg = gamma, pb = beta)
        {
            var job = RangeJob.ForThisThread;
            job.P0 = py; job.P1 = pm; job.P2 = pr; job.P3 = px; job.P4 = pg; job.P5 = pb; job.I0 = c; job.D0 = eps;
            job.Run(&ForwardPart, n, 1, (long)n * c);
        }
    }

    private static unsafe void ForwardPart(RangeJob j, int start, int end)
    {
        int c = j.I0, rows = end - start;
        ForwardRange(new Span<float>(j.P0 + (long)start * c, rows * c), new Span<float>(j.P1 + start, rows), new Span<float>(j.P2 + start, rows),
            new ReadOnlySpan<float>(j.P3 + (long)start * c, rows * c), new ReadOnlySpan<float>(j.P4, c), new ReadOnlySpan<float>(j.P5, c), 0, rows, c, j.D0);
    }

    /// <summary>Rows [<paramref name="first"/>, <paramref name="last"/>) of the forward pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRange<T>(Span<T> y, Span<T> mean, Span<T> rstd, ReadOnlySpan<T> x,
        ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, int first, int last, int c, double eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T inv = T.One / T.CreateTruncating(c);
        T e = T.CreateTruncating(eps);
        for (int i = first; i < last; i++)
        {
            var xi = x.Slice(i * c, c); // (C)
            var yi = y.Slice(i * c, c); // (C)
            T m = TensorPrimitives.Sum(xi) * inv;
            TensorPrimitives.Subtract(xi, m, yi);
            T v = TensorPrimitives.SumOfSquares<T>(yi) * inv;
            T r = T.One / T.Sqrt(v + e);
            TensorPrimitives.Multiply(yi, r, yi);
            TensorPrimitives.FusedMultiplyAdd(yi, gamma[..c], beta[..c], yi);
            mean[i] = m;
            rstd[i] = r;
        }
    }

    /// <summary>Backward pass; adds into <paramref name="dx"/>, <paramref name="dGamma"/> and <paramref name="dBeta"/>.</summary>
    /// <param name="dx">Input gradient (N, C).</param>
    /// <param name="dGamma">Scale gradient (C).</param>
    /// <param name="dBeta">Shift gradient (C).</param>
    /// <param name="scratch">Workspace (2·C).</param>
    /// <param name="dy">Output gradient (N, C).</param>
    /// <param name="x">Forward input (N, C).</param>
    /// <param name="mean">Cache (N).</param>
    /// <param name="rstd">Cache (N).</param>
    /// <param name="gamma">Scale (C).</param>
    /// <param name="n">Rows.</param>
    /// <param name="c">Features.</param>
    public static void Backward<T>(Span<T> dx, Span<T> dGamma, Span<T> dBeta, Span<T> scratch, ReadOnlySpan<T> dy,
        ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, ReadOnlySpan<T> gamma, int n, int c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T inv = T.One / T.CreateTruncating(c);
        var xhat = scratch[..c];       // (C)
        var g = scratch.Slice(c, c);   // (C)
        for (int i = 0; i < n; i++)
        {
            var xi = x.Slice(i * c, c);
            var dyi = dy.Slice(i * c, c);
            TensorPrimitives.Subtract(xi, mean[i], xhat);
            TensorPrimitives.Multiply(xhat, rstd[i], xhat);
            if (!dBeta.IsEmpty) TensorPrimitives.Add(dBeta[..c], dyi, dBeta[..c]);
            if (!dGamma.IsEmpty) TensorPrimitives.FusedMultiplyAdd(dyi, xhat, dGamma[..c], dGamma[..c]);
            if (dx.IsEmpty) continue;
            TensorPrimitives.Multiply(dyi, gamma[..c], g);
            T meanG = TensorPrimitives.Sum<T>(g) * inv;
            T meanGx = TensorPrimitives.Dot<T>(g, xhat) * inv;
            // dx_j += r·(g_j − meanG − x̂_j·meanGx)
            var dxi = dx.Slice(i * c, c);
            T r = rstd[i];
            for (int j = 0; j < c; j++) dxi[j] += r * (g[j] - meanG - xhat[j] * meanGx);
        }
    }
}
