using System.Runtime.InteropServices;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// How much a sampled quantile can be trusted when the sample is made of runs of neighbouring elements, which can be
/// alike (rows of a matrix, an embedding's untouched tokens): the sampled runs are dealt into <see cref="Groups"/>
/// groups, each group's fraction of |τ| above a point is an estimate of its own, and the spread of those estimates gives
/// the standard error of the whole sample's (the random-group estimator: for G groups with n_g elements, a_g above,
/// <c>p = Σa_g/Σn_g</c>, <c>SE² = G/(G − 1) · Σ n_g²(a_g/n_g − p)² / (Σn_g)²</c>). The sample takes one run from every
/// slice of every tensor, so the runs of a tensor's consecutive 65,536-element blocks go to the groups in turn (from a
/// start a hash of the tensor's name picks): each group is itself a sample of every large tensor, and the groups differ
/// by what differs inside tensors, not by which tensors they drew. Counts are kept per task and group by the upper 12
/// bits of <c>bits(|τ|)</c> (a sixteenth of a binade).
/// </summary>
internal sealed class SampleSpread(int tasks)
{
    /// <summary>Random groups of sampled runs.</summary>
    internal const int Groups = 8;

    private const int Keys = 4096;

    /// <summary>The group of the sampled run at element <paramref name="offset"/> of tensor <paramref name="tensor"/>.</summary>
    internal static int GroupOf(string tensor, long offset) =>
        (int)((Tensors.RandomStreams.Key(0, "ties.sample.group", 0, tensor) + (ulong)(offset >> 16)) % Groups);
    private readonly long[] _counts = new long[tasks * Groups * Keys]; // (T, G, 4096) sampled |τ| per 12-bit key

    /// <summary>Counts one sampled run of task <paramref name="task"/> into group <paramref name="group"/>.</summary>
    public void Add(int task, int group, ReadOnlySpan<float> values)
    {
        var c = _counts.AsSpan((task * Groups + group) * Keys, Keys);
        foreach (uint bits in MemoryMarshal.Cast<float, uint>(values)) c[(int)((bits & 0x7FFF_FFFFu) >> 19)]++;
    }

    /// <summary>Adds another thread's counts.</summary>
    public void Absorb(SampleSpread other)
    {
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
    }

    /// <summary>
    /// The standard error of task <paramref name="task"/>'s sampled fraction of |τ| above the 12-bit bin of
    /// <paramref name="bits"/>, from the groups' spread (0 with fewer than two non-empty groups).
    /// </summary>
    public double StandardError(int task, uint bits)
    {
        int key = (int)((bits & 0x7FFF_FFFFu) >> 19);
        Span<double> n = stackalloc double[Groups];
        Span<double> above = stackalloc double[Groups];
        for (int g = 0; g < Groups; g++)
        {
            var c = _counts.AsSpan((task * Groups + g) * Keys, Keys);
            for (int k = 0; k < Keys; k++)
            {
                n[g] += c[k];
                if (k > key) above[g] += c[k];
            }
        }
        double total = 0, totalAbove = 0;
        int groups = 0;
        for (int g = 0; g < Groups; g++)
        {
            total += n[g];
            totalAbove += above[g];
            if (n[g] > 0) groups++;
        }
        if (groups < 2) return 0;
        double p = totalAbove / total, sum = 0;
        for (int g = 0; g < Groups; g++)
            if (n[g] > 0) sum += n[g] * n[g] * Math.Pow(above[g] / n[g] - p, 2);
        return Math.Sqrt(groups / (groups - 1.0) * sum / (total * total));
    }
}
