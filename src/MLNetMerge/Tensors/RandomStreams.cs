namespace MLNetMerge.Tensors;

/// <summary>
/// One seed, every draw. Every random number MLNetMerge takes — a DARE drop mask, a sketch for a randomized SVD, a
/// dataset split, a few-shot sample, a batch order, a head's initial weights — comes from a stream whose 64-bit key is
/// derived here from the run's seed and the draw's identity:
/// <c>key = Mix(Mix(seed + φ) ⊕ Mix(FNV-1a(purpose · 0xFF · name)) ⊕ Mix(index + c))</c>, with φ = 0x9E3779B97F4A7C15,
/// c = 0x632BE59BD9B4E019 and <c>Mix</c> SplitMix64's finaliser. <c>purpose</c> names what the draw is for
/// (<c>"dare.drop"</c>, <c>"splits.stratified"</c>, …), <c>index</c> a task, class or pass number and <c>name</c> a
/// tensor or task name. Two draws with different identities get unrelated streams; the same identity gets the same
/// stream on every machine, thread count and instruction set (docs/seeds.md).
/// </summary>
internal static class RandomStreams
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>SplitMix64 finaliser: <c>z = (z ⊕ z≫30)·0xBF58476D1CE4E5B9; z = (z ⊕ z≫27)·0x94D049BB133111EB; z ⊕ z≫31</c>.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The key of the stream for one draw.</summary>
    /// <param name="seed">The run's seed (any 64-bit value).</param>
    /// <param name="purpose">What the draw is for, e.g. <c>"dare.drop"</c>; never empty.</param>
    /// <param name="index">A task, class, pass or draw number.</param>
    /// <param name="name">A tensor or task name, or empty.</param>
    public static ulong Key(ulong seed, string purpose, long index = 0, string name = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentNullException.ThrowIfNull(name);
        ulong h = 14695981039346656037UL;                       // FNV-1a offset basis
        foreach (char c in purpose) { h ^= c; h *= 1099511628211UL; }
        h ^= 0xFF; h *= 1099511628211UL;                         // separator: ("ab", "c") ≠ ("a", "bc")
        foreach (char c in name) { h ^= c; h *= 1099511628211UL; }
        return Mix(Mix(seed + Golden) ^ Mix(h) ^ Mix((ulong)index + 0x632BE59BD9B4E019UL));
    }

    /// <summary>A sequential generator on the stream <see cref="Key"/> names.</summary>
    public static SeededRandom Create(ulong seed, string purpose, long index = 0, string name = "") =>
        new(Key(seed, purpose, index, name));

    /// <summary>
    /// A counter-based uniform draw in [0, 1) with 24 bits of resolution: element <paramref name="index"/> of stream
    /// <paramref name="key"/> is <c>(Mix(key + index·φ) ≫ 40) / 2²⁴</c>, a pure function of (key, index), so element i of
    /// a tensor gets the same number whatever the thread count or the order of work.
    /// </summary>
    public static float Uniform(ulong key, long index) =>
        (Mix(key + (ulong)index * Golden) >> 40) * (1.0f / (1 << 24));
}
