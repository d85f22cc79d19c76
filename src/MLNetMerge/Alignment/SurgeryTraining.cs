using System.Numerics;
using System.Numerics.Tensors;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>Settings of Representation Surgery (Yang et al. 2024: rank 16, Adam 1e-3, 500 steps).</summary>
/// <param name="Rank">Width r of the adapter's bottleneck.</param>
/// <param name="Steps">Adam steps.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="Batch">Examples per step (a seeded reshuffle each pass).</param>
internal sealed record SurgerySettings(int Rank = 16, int Steps = 500, double LearningRate = 1e-3, int Batch = 32);

/// <summary>
/// Representation Surgery's per-task module on merged features (docs/methods/surgery.md):
/// <c>z' = z − B·ReLU(A z)</c> with A (r, E) (down) and B (E, r) (up, initialised to 0), trained to minimise the L1
/// distance to the fine-tuned features <c>L = (1/(B·E)) Σ_{n,j} |z'_nj − f_nj|</c> on unlabeled inputs.
/// With <c>h = A z</c>, <c>a = ReLU(h)</c>, <c>g = ∂L/∂z' = sign(z' − f)/(B·E)</c>: <c>∂L/∂B = −gᵀ a</c>,
/// <c>∂L/∂h = (−g B) ⊙ [h &gt; 0]</c>, <c>∂L/∂A = (∂L/∂h)ᵀ z</c>.
/// </summary>
internal static class SurgeryTraining
{
    /// <summary><c>z' = z − B·ReLU(A z)</c> for rows (N, E); returns (N, E).</summary>
    /// <param name="z">Merged features (N, E).</param>
    /// <param name="down">A (r, E).</param>
    /// <param name="up">B (E, r).</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="r">r.</param>
    public static float[] Apply(ReadOnlySpan<float> z, ReadOnlySpan<float> down, ReadOnlySpan<float> up, int n, int e, int r)
    {
        var h = new float[n * r];                                         // (N, r)
        var y = new float[n * e];                                         // (N, E)
        Linear.Forward<float>(h, z[..(n * e)], down, [], n, e, r);
        TensorPrimitives.Max(h, 0f, h);
        Linear.Forward<float>(y, h, up, [], n, r, e);
        TensorPrimitives.Subtract(z[..(n * e)], y, y);
        return y;
    }

    /// <summary>L1 loss of one batch; adds ∂L/∂A and ∂L/∂B into the gradients.</summary>
    /// <param name="dDown">∂L/∂A (r, E), added into.</param>
    /// <param name="dUp">∂L/∂B (E, r), added into.</param>
    /// <param name="z">Merged features (N, E).</param>
    /// <param name="f">Target features (N, E).</param>
    /// <param name="down">A (r, E).</param>
    /// <param name="up">B (E, r).</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="r">r.</param>
    public static double LossAndGradient<T>(Span<T> dDown, Span<T> dUp, ReadOnlySpan<T> z, ReadOnlySpan<T> f,
        ReadOnlySpan<T> down, ReadOnlySpan<T> up, int n, int e, int r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var h = new T[n * r];                                             // (N, r) pre-activation
        var a = new T[n * r];                                             // (N, r) ReLU(h)
        var y = new T[n * e];                                             // (N, E) z' − f, then −g
        Linear.Forward<T>(h, z[..(n * e)], down, [], n, e, r);
        for (int i = 0; i < h.Length; i++) a[i] = T.Max(h[i], T.Zero);
        Linear.Forward<T>(y, a, up, [], n, r, e);
        T loss = T.Zero;
        T scale = -T.One / T.CreateTruncating(n * e);
        for (int i = 0; i < y.Length; i++)
        {
            T d = z[i] - y[i] - f[i];                                     // z' − f
            loss += T.Abs(d);
            y[i] = d > T.Zero ? scale : d < T.Zero ? -scale : T.Zero;     // ∂L/∂u = −g, u = B a
        }
        var da = new T[n * r];                                            // (N, r)
        Linear.Backward<T>(da, dUp, [], y, a, up, n, r, e);
        for (int i = 0; i < da.Length; i++) if (h[i] <= T.Zero) da[i] = T.Zero;
        Linear.Backward<T>([], dDown, [], da, z[..(n * e)], down, n, e, r);
        return double.CreateTruncating(loss) / ((double)n * e);
    }

    /// <summary>Trains (A, B) for one task: A from a seeded uniform(±1/√E) draw (PyTorch's Linear init bound), B = 0.</summary>
    /// <param name="z">Merged features (N, E).</param>
    /// <param name="f">Target features (N, E).</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="settings">Rank, steps, learning rate, batch.</param>
    /// <param name="streamKey">Key of the stream of A's draw and the batch order (<see cref="RandomStreams.Key"/>).</param>
    /// <param name="onStep">Called with (step, loss).</param>
    /// <param name="cancellationToken">Checked every step.</param>
    public static (float[] Down, float[] Up) Train(ReadOnlySpan<float> z, ReadOnlySpan<float> f, int n, int e, SurgerySettings settings, ulong streamKey,
        Action<int, double>? onStep = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (n < 1) throw new AlignmentDataException(null, "surgery needs at least one example.");
        int r = settings.Rank;
        var rng = new SeededRandom(streamKey);
        float bound = 1f / MathF.Sqrt(e);
        var theta = new float[r * e + e * r];                             // (r·E + E·r) [A | B]
        for (int i = 0; i < r * e; i++) theta[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        var grad = new float[theta.Length];                               // (r·E + E·r)
        var adam = new Adam(theta.Length, new AdamOptions { LearningRate = settings.LearningRate });
        int batch = Math.Min(settings.Batch, n), pos = n;
        var order = Enumerable.Range(0, n).ToArray();
        var zb = new float[batch * e];                                    // (B, E)
        var fb = new float[batch * e];                                    // (B, E)
        for (int step = 1; step <= settings.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < batch; i++)
            {
                if (pos == n) { rng.Shuffle(order.AsSpan()); pos = 0; }
                z.Slice(order[pos] * e, e).CopyTo(zb.AsSpan(i * e, e));
                f.Slice(order[pos] * e, e).CopyTo(fb.AsSpan(i * e, e));
                pos++;
            }
            Array.Clear(grad);
            double loss = LossAndGradient(grad.AsSpan(0, r * e), grad.AsSpan(r * e), zb, fb, theta.AsSpan(0, r * e), theta.AsSpan(r * e), batch, e, r);
            adam.Step(theta, grad);
            onStep?.Invoke(step, loss);
        }
        return (theta[..(r * e)], theta[(r * e)..]);
    }
}
