using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>How a generalised task arithmetic thins each task vector before combining.</summary>
internal enum SparsificationKind
{
    /// <summary>Keep every element.</summary>
    None,
    /// <summary>TIES trim over the whole model: keep |τ| ≥ the task's global threshold.</summary>
    MagnitudeGlobal,
    /// <summary>TIES trim per tensor.</summary>
    MagnitudeTensor,
    /// <summary>Per tensor, exactly the ⌊keep·N⌋ largest magnitudes (mergekit's magnitude sparsification).</summary>
    MagnitudeTopK,
    /// <summary>DARE: drop each element with probability p, survivors divided by 1 − p.</summary>
    RandomDrop,
    /// <summary>Model Breadcrumbs: drop the largest γ fraction and the smallest, keeping a density band.</summary>
    Breadcrumbs,
    /// <summary>DELLA (MagPrune): per row, keep probability from the magnitude rank, survivors divided by it.</summary>
    Della,
}

/// <summary>Per-tensor sparsifiers applied in place to a task vector. Each is a pure function of its inputs and seed.</summary>
internal static class Sparsification
{
    /// <summary>
    /// DARE: <c>δ[i] = m[i] ? 0 : τ[i] / (1 − p)</c> with <c>m[i] ~ Bernoulli(p)</c> drawn from (seed, task, tensor, i).
    /// Without <paramref name="rescale"/> survivors keep their value.
    /// </summary>
    public static void RandomDrop(Span<float> tau, double p, bool rescale, ulong key)
    {
        if (p <= 0) return;
        if (p >= 1) { tau.Clear(); return; }
        float scale = rescale ? (float)(1.0 / (1.0 - p)) : 1f;
        float threshold = (float)p;
        for (int i = 0; i < tau.Length; i++)
            tau[i] = RandomStreams.Uniform(key, i) < threshold ? 0f : tau[i] * scale;
    }

    /// <summary>Zeroes elements with <c>|τ[i]| &lt; threshold</c> (ties at the threshold are kept).</summary>
    public static void KeepAtLeast(Span<float> tau, float threshold)
    {
        if (threshold <= 0) return;
        for (int i = 0; i < tau.Length; i++)
            if (MathF.Abs(tau[i]) < threshold) tau[i] = 0f;
    }

    /// <summary>
    /// TIES's count rule: with K = ⌊keep·N⌋ kept, the threshold is the (K+1)-th largest |τ| — the authors' code takes the
    /// (N − K)-th smallest with <c>kthvalue</c> and keeps |τ| ≥ it. Returns 0 (keep all) when K ≥ N.
    /// </summary>
    public static long ThresholdRank(long n, double keep)
    {
        long k = (long)Math.Floor(keep * n);
        return k >= n ? 0 : k + 1;
    }

    /// <summary>Per-tensor TIES trim: keeps |τ| ≥ the <see cref="ThresholdRank"/>-th largest magnitude of this tensor.</summary>
    public static void MagnitudeTensor(Span<float> tau, double keep)
    {
        long rank = ThresholdRank(tau.Length, keep);
        if (rank == 0 || tau.Length == 0) return;
        KeepAtLeast(tau, MagnitudeHistogram.KthLargest(tau, rank));
    }

    /// <summary>
    /// mergekit's magnitude sparsification: keeps the K = ⌊keep·N⌋ largest |τ| of this tensor (|τ| ≥ the K-th largest;
    /// elements tied with it are kept too), all of them when keep ≥ 1, none when K = 0 — one fewer than
    /// <see cref="MagnitudeTensor"/>'s count rule.
    /// </summary>
    public static void MagnitudeTopK(Span<float> tau, double keep)
    {
        if (keep >= 1 || tau.Length == 0) return;
        long k = (long)Math.Floor(keep * tau.Length);
        if (k <= 0) { tau.Clear(); return; }
        KeepAtLeast(tau, MagnitudeHistogram.KthLargest(tau, k));
    }

    /// <summary>
    /// Model Breadcrumbs: with N elements, the ⌊γN⌋ largest magnitudes and everything below the
    /// (⌊γN⌋ + ⌊density·N⌋)-th largest are zeroed (elements tied with a boundary value are kept). As in mergekit, a
    /// density of 1 or more keeps everything, and when ⌊γN⌋ + ⌊density·N⌋ exceeds N fewer large values are dropped
    /// (N − ⌊density·N⌋), so the density is met.
    /// </summary>
    public static void Breadcrumbs(Span<float> tau, double density, double gamma)
    {
        long n = tau.Length;
        if (n == 0 || density >= 1) return;
        long keep = (long)Math.Floor(density * n);
        long top = Math.Min((long)Math.Floor(gamma * n), n - keep);
        float upper = top == 0 ? float.PositiveInfinity : MagnitudeHistogram.KthLargest(tau, top + 1);
        float lower = top + keep >= n ? 0f : keep == 0 ? float.PositiveInfinity : MagnitudeHistogram.KthLargest(tau, top + keep);
        for (int i = 0; i < tau.Length; i++)
        {
            float a = MathF.Abs(tau[i]);
            if (a > upper || a < lower) tau[i] = 0f;
        }
    }

    /// <summary>
    /// DELLA's MagPrune, per row of length n: elements ranked by magnitude ascending (ties by position),
    /// rank r ∈ [0, n−1] gets keep probability <c>p = clamp(density − ε + 2ε·r/(n−1), 0, 1)</c>; kept elements are
    /// divided by p (when <paramref name="rescale"/>), the rest zeroed. Draws come from (seed, task, tensor, index). As in
    /// mergekit, a density of 1 or more keeps the task vector as it is (no pruning, no rescale) and a density of 0 or less
    /// zeroes it.
    /// </summary>
    public static void Della(Span<float> tau, int rowLength, double density, double epsilon, bool rescale, ulong key)
    {
        if (density >= 1) return;
        if (density <= 0)
        {
            tau.Clear();
            return;
        }
        if (rowLength <= 0) rowLength = tau.Length;
        var order = new ulong[Math.Min(rowLength, tau.Length)];
        for (int start = 0; start < tau.Length; start += rowLength)
        {
            var row = tau.Slice(start, Math.Min(rowLength, tau.Length - start));
            int n = row.Length;
            var keys = order.AsSpan(0, n);
            // (bits of |x|) << 32 | position: sorting these orders by magnitude, ties by position.
            for (int i = 0; i < n; i++) keys[i] = ((ulong)(BitConverter.SingleToUInt32Bits(row[i]) & 0x7FFF_FFFFu) << 32) | (uint)i;
            keys.Sort();
            for (int r = 0; r < n; r++)
            {
                int i = (int)(uint)keys[r];
                double p = n == 1 ? density : density - epsilon + 2 * epsilon * r / (n - 1);
                p = Math.Clamp(p, 0, 1);
                long global = start + i;
                if (p <= 0 || RandomStreams.Uniform(key, global) >= p) row[i] = 0f;
                else if (rescale) row[i] = (float)(row[i] / p);
            }
        }
    }

}
