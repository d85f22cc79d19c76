namespace MLNetMerge.Tensors;

/// <summary>
/// The one sequential generator, with a fixed algorithm so every draw is the same on every run and machine:
/// xoshiro256** seeded through SplitMix64 from a stream key (<see cref="RandomStreams.Key"/>); uniform doubles from the
/// top 53 bits; integers in [0, n) by Lemire's multiply-shift with rejection (no modulo bias); standard normal draws by
/// Box–Muller (<c>z0 = √(−2 ln u1) cos 2πu2</c>, <c>z1 = √(−2 ln u1) sin 2πu2</c>, u1 ∈ (0, 1]).
/// </summary>
internal sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    /// <summary>Creates a generator whose whole stream is determined by <paramref name="key"/>.</summary>
    public SeededRandom(ulong key)
    {
        ulong x = key;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// A uniform integer in [0, <paramref name="bound"/>): <c>m = x·bound</c> on 64 random bits x, the high word is the
    /// draw, rejected while the low word falls below <c>2⁶⁴ mod bound</c> (Lemire 2019, arXiv:1805.10941).
    /// </summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong n = (ulong)bound;
        ulong high = Math.BigMul(NextUInt64(), n, out ulong low);
        if (low < n)
        {
            ulong threshold = (0UL - n) % n;
            while (low < threshold) high = Math.BigMul(NextUInt64(), n, out low);
        }
        return (int)high;
    }

    /// <summary>Fisher–Yates shuffle in place: for i = n−1 … 1, swap item i with item <c>NextInt(i + 1)</c>.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Partial Fisher–Yates: for i = 0 … count−1, swap item i with item <c>i + NextInt(n − i)</c>; the first
    /// <paramref name="count"/> items are then a uniform sample without replacement, in draw order.
    /// </summary>
    public void ShuffleFirst<T>(IList<T> items, int count)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, items.Count);
        for (int i = 0; i < count; i++)
        {
            int j = i + NextInt(items.Count - i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A standard normal draw (Box–Muller, the second value of each pair kept for the next call).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spare = radius * Math.Sin(angle);
        _hasSpare = true;
        return radius * Math.Cos(angle);
    }

    /// <summary>Fills <paramref name="destination"/> with standard normal draws scaled by <paramref name="scale"/>.</summary>
    public void FillGaussian(Span<float> destination, float scale = 1f)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(scale * NextGaussian());
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        return RandomStreams.Mix(z);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
