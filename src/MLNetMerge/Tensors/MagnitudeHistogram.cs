using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors;

/// <summary>
/// Exact k-th largest magnitude over any number of spans without copying them: a two-pass radix select over the
/// IEEE-754 bits of |x| (for non-negative floats the bit pattern orders like the value). Pass 1 counts the upper 16
/// bits; <see cref="ResolveCoarse"/> finds the bucket holding rank k; pass 2 counts the lower 16 bits of the elements
/// in that bucket; <see cref="Resolve"/> returns the value. Counts are integers, so merging per-thread histograms in
/// any order gives the same answer.
/// </summary>
internal sealed class MagnitudeHistogram
{
    private readonly long[] _coarse = new long[65536];
    private uint[]? _coarse4; // (4, 65536) pass-1 counts not yet folded into _coarse: four interleaved sub-histograms
    private readonly long[] _fine = new long[65536];
    private int _bucket = -1;
    private long _rankInBucket;

    /// <summary>Elements counted in pass 1.</summary>
    public long Count { get; private set; }

    /// <summary>The bucket chosen by <see cref="ResolveCoarse"/> (upper 16 bits of the answer), or -1.</summary>
    public int Bucket => _bucket;

    /// <summary>
    /// Pass 1: counts <c>bits(|x|) &gt;&gt; 16</c> for every element. Consecutive elements go to four interleaved
    /// sub-histograms (their increments do not wait on each other when neighbours share a bucket, which clustered
    /// magnitudes make common), folded into the totals before they are read; counts are integers, so the totals are exact.
    /// </summary>
    public unsafe void AddCoarse(ReadOnlySpan<float> values)
    {
        var h4 = _coarse4 ??= new uint[4 * 65536];
        int n = values.Length, i = 0;
        fixed (float* pv = values)
        fixed (uint* ph = h4)
        {
            uint* bits = (uint*)pv;
            uint* h0 = ph, h1 = ph + 65536, h2 = ph + 2 * 65536, h3 = ph + 3 * 65536;
            for (; i + 4 <= n; i += 4)
            {
                h0[(bits[i] & 0x7FFF_FFFFu) >> 16]++;
                h1[(bits[i + 1] & 0x7FFF_FFFFu) >> 16]++;
                h2[(bits[i + 2] & 0x7FFF_FFFFu) >> 16]++;
                h3[(bits[i + 3] & 0x7FFF_FFFFu) >> 16]++;
            }
            for (; i < n; i++) h0[(bits[i] & 0x7FFF_FFFFu) >> 16]++;
        }
        Count += n;
        // A uint sub-count cannot overflow before 2^32 − 1 increments: fold well before that.
        if ((_pendingCoarse += n) >= 1L << 31) FoldCoarse();
    }

    private long _pendingCoarse;

    /// <summary>Adds the sub-histograms into the pass-1 totals and clears them.</summary>
    private void FoldCoarse()
    {
        if (_coarse4 is null) return;
        for (int b = 0; b < 65536; b++)
            _coarse[b] += (long)_coarse4[b] + _coarse4[65536 + b] + _coarse4[2 * 65536 + b] + _coarse4[3 * 65536 + b];
        Array.Clear(_coarse4);
        _pendingCoarse = 0;
    }

    /// <summary>Adds another histogram's pass-1 counts.</summary>
    public void MergeCoarse(MagnitudeHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        FoldCoarse();
        other.FoldCoarse();
        for (int i = 0; i < _coarse.Length; i++) _coarse[i] += other._coarse[i];
        Count += other.Count;
    }

    /// <summary>Chooses the bucket holding the <paramref name="rank"/>-th largest magnitude (1-based).</summary>
    public void ResolveCoarse(long rank) => (_bucket, _rankInBucket) = Locate(rank);

    /// <summary>The bucket holding the <paramref name="rank"/>-th largest magnitude counted in pass 1 (1-based), without choosing it.</summary>
    public int BucketOfRank(long rank) => Locate(rank).Bucket;

    private (int Bucket, long RankInBucket) Locate(long rank)
    {
        if (rank < 1 || rank > Count) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} outside 1..{Count}.");
        FoldCoarse();
        long above = 0;
        for (int b = _coarse.Length - 1; b >= 0; b--)
        {
            if (above + _coarse[b] >= rank) return (b, rank - above);
            above += _coarse[b];
        }
        throw new InvalidOperationException("histogram counts are inconsistent.");
    }

    /// <summary>
    /// An estimate of <c>bits(|x|)</c> of the <paramref name="rank"/>-th largest magnitude from the pass-1 counts alone: its
    /// bucket, with the lower 16 bits placed by the rank's position within the bucket as if the bucket's elements were
    /// spread evenly over it.
    /// </summary>
    public uint EstimateBits(long rank)
    {
        var (bucket, inBucket) = Locate(rank);
        double fromBottom = 1.0 - (inBucket - 0.5) / _coarse[bucket];
        return (uint)bucket << 16 | (uint)Math.Clamp(Math.Floor(fromBottom * 65536), 0, 65535);
    }

    /// <summary>Counts <paramref name="count"/> zeros in pass 1 (elements not passed to <see cref="AddCoarse"/>).</summary>
    public void AddZeros(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _coarse[0] += count;
        Count += count;
    }

    /// <summary>Pass 2: counts the lower 16 bits of elements whose upper bits equal the chosen bucket. Eight elements are
    /// compared at a time; the few in the bucket (it spans 2⁻⁷ of the answer) are counted one by one.</summary>
    public void AddFine(ReadOnlySpan<float> values)
    {
        uint bucket = (uint)_bucket;
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var h = _fine;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var upper = Vector256.Create(0x7FFF_0000u);
            var target = Vector256.Create(bucket << 16);
            ref uint r = ref MemoryMarshal.GetReference(bits);
            for (; i <= bits.Length - 8; i += 8)
            {
                var hit = Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)i) & upper, target);
                for (uint lanes = Vector256.ExtractMostSignificantBits(hit); lanes != 0; lanes &= lanes - 1)
                    h[bits[i + BitOperations.TrailingZeroCount(lanes)] & 0xFFFF]++;
            }
        }
        for (; i < bits.Length; i++)
        {
            uint a = bits[i] & 0x7FFF_FFFFu;
            if (a >> 16 == bucket) h[a & 0xFFFF]++;
        }
    }

    /// <summary>Elements pass 1 counted in the chosen bucket.</summary>
    public long BucketCount => _bucket < 0 ? 0 : _coarse[_bucket];

    /// <summary>
    /// After a pass 2 over some of the bucket's elements, every non-zero one among them: counts the rest of the bucket
    /// as zeros (lower bits 0), which only bucket 0 holds.
    /// </summary>
    /// <exception cref="InvalidOperationException">Pass 2 saw more elements than the bucket holds, or missed some of a bucket without zeros.</exception>
    public void CountRestAsZeros()
    {
        long rest = _coarse[_bucket] - _fine.Sum();
        if (rest < 0 || (rest > 0 && _bucket != 0))
            throw new InvalidOperationException($"pass 2 saw {_fine.Sum()} elements of bucket {_bucket}, which holds {_coarse[_bucket]}.");
        _fine[0] += rest;
    }

    /// <summary>Adds another histogram's pass-2 counts (same bucket).</summary>
    public void MergeFine(MagnitudeHistogram other)
    {
        for (int i = 0; i < _fine.Length; i++) _fine[i] += other._fine[i];
    }

    /// <summary>Sets the bucket chosen elsewhere (for per-thread pass-2 histograms).</summary>
    public void UseBucket(int bucket) => _bucket = bucket;

    /// <summary>The exact k-th largest magnitude after both passes.</summary>
    public float Resolve()
    {
        long above = 0;
        for (int low = _fine.Length - 1; low >= 0; low--)
        {
            if (above + _fine[low] >= _rankInBucket)
                return BitConverter.UInt32BitsToSingle(((uint)_bucket << 16) | (uint)low);
            above += _fine[low];
        }
        throw new InvalidOperationException("pass 2 saw fewer elements than pass 1 put in the bucket.");
    }

    /// <summary>Clears both passes.</summary>
    public void Reset()
    {
        Array.Clear(_coarse);
        Array.Clear(_fine);
        if (_coarse4 is not null) Array.Clear(_coarse4);
        _pendingCoarse = 0;
        _bucket = -1;
        Count = 0;
    }

    /// <summary>
    /// The <paramref name="rank"/>-th largest |x| (1-based), exactly, of one span and <paramref name="zeros"/> further zeros
    /// not in it.
    /// </summary>
    public static float KthLargest(ReadOnlySpan<float> values, long rank, long zeros = 0)
    {
        var h = new MagnitudeHistogram();
        h.AddCoarse(values);
        h.AddZeros(zeros);
        h.ResolveCoarse(rank);
        h.AddFine(values);
        if (h._bucket == 0) h.CountRestAsZeros();
        return h.Resolve();
    }
}
