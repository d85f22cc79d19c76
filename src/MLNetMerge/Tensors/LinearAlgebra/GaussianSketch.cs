namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The Gaussian start blocks of the truncated SVDs (<see cref="GramSubspaceSvd"/>), remembered. A per-matrix method
/// decomposes the T task matrices of one tensor with one seed (a function of the recipe seed and the tensor's name), so
/// its T SVDs start from the same block Ωᵀ (l, k): it is drawn once (Box–Muller, three transcendental calls per pair:
/// 2.6–4 ms for 160 × 768 on an Ice Lake core, 5–8 % of the SVD) and copied for the others. A block is a function of its
/// seed and length alone, so a copy has the bits of a fresh draw. The last <see cref="Capacity"/> blocks are kept
/// (two threads may be on two seeds at once).
/// </summary>
internal static class GaussianSketch
{
    /// <summary>Blocks kept.</summary>
    internal const int Capacity = 2;

    private sealed record Entry(ulong Seed, float[] Values);

    private static readonly Entry?[] Recent = new Entry?[Capacity];
    private static readonly object Gate = new();
    private static int _next;

    /// <summary>Fills <paramref name="destination"/> with standard normal draws from <see cref="SeededRandom"/>(<paramref name="seed"/>).</summary>
    internal static void Fill(ulong seed, Span<float> destination)
    {
        lock (Gate)
            foreach (var entry in Recent)
                if (entry is not null && entry.Seed == seed && entry.Values.Length == destination.Length)
                {
                    entry.Values.CopyTo(destination);
                    return;
                }
        new SeededRandom(seed).FillGaussian(destination);
        var kept = destination.ToArray();
        lock (Gate)
        {
            Recent[_next] = new Entry(seed, kept);
            _next = (_next + 1) % Capacity;
        }
    }
}
