namespace MLNetMerge.Tensors;

/// <summary>
/// Counter-based random numbers: each draw is a pure function of (key, index), so element i of a tensor gets the same
/// number whatever the thread count or the order of work. The mix is SplitMix64's finaliser.
/// </summary>
internal static class CounterRandom
{
    /// <summary>SplitMix64 finaliser: <c>z = (z ^ z&gt;&gt;30)·0xBF58476D1CE4E5B9; z = (z ^ z&gt;&gt;27)·0x94D049BB133111EB; z ^ z&gt;&gt;31</c>.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A key for one stream: mixes the seed, a task index and a tensor name (FNV-1a).</summary>
    public static ulong Key(ulong seed, int task, string tensorName)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName) { h ^= c; h *= 1099511628211UL; }
        return Mix(Mix(seed + 0x9E3779B97F4A7C15UL) ^ Mix((ulong)task + 0x632BE59BD9B4E019UL) ^ h);
    }

    /// <summary>A uniform draw in [0, 1) with 24 bits of resolution for element <paramref name="index"/> of stream <paramref name="key"/>.</summary>
    public static float Uniform(ulong key, long index) =>
        (Mix(key + (ulong)index * 0x9E3779B97F4A7C15UL) >> 40) * (1.0f / (1 << 24));
}
