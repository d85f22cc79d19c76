using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// TIES's trim of whole task vectors for AdaMerging++: per task, keep the entries whose magnitude is at least the
/// threshold TIES uses over the whole flattened task vector (the (⌊keep·P⌋+1)-th largest |τ|, ties kept, see
/// <see cref="Sparsification.ThresholdRank"/>), zero the rest. The threshold and the zeroing are TIES's own functions.
/// </summary>
internal static class TiesTrimming
{
    /// <summary>Trims <paramref name="tau"/> (P) in place to its top <paramref name="keep"/> magnitudes; returns the threshold (0: all kept).</summary>
    public static float Apply(Span<float> tau, double keep)
    {
        long rank = Sparsification.ThresholdRank(tau.Length, keep);
        if (rank == 0 || tau.Length == 0) return 0f;
        float threshold = MagnitudeHistogram.KthLargest(tau, rank);
        Sparsification.KeepAtLeast(tau, threshold);
        return threshold;
    }
}
