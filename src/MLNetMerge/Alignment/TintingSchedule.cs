using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// Tinting's seeded schedule: each round visits every task once in a freshly shuffled order (sequential updates), and
/// each task draws its batches from passes over its examples in shuffled order. Every permutation is a Fisher–Yates
/// shuffle whose i-th swap partner is <c>Mix(key + i·φ) mod (i + 1)</c> with <see cref="CounterRandom"/>'s SplitMix64
/// mix, keyed by (seed, round or task, pass): the same seed gives the same schedule on every machine and .NET version.
/// </summary>
internal static class TintingSchedule
{
    /// <summary>The order in which round <paramref name="round"/> visits the <paramref name="taskCount"/> tasks.</summary>
    public static int[] TaskOrder(ulong seed, int round, int taskCount) =>
        Permutation(CounterRandom.Key(seed, round, "tinting.task_order"), taskCount);

    /// <summary>The example order of pass <paramref name="pass"/> over task <paramref name="task"/>'s <paramref name="count"/> examples.</summary>
    public static int[] ExampleOrder(ulong seed, int task, int pass, int count) =>
        Permutation(CounterRandom.Key(seed, task, "tinting.examples." + pass.ToString(System.Globalization.CultureInfo.InvariantCulture)), count);

    /// <summary>A permutation of 0..n−1 drawn from stream <paramref name="key"/>.</summary>
    public static int[] Permutation(ulong key, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(CounterRandom.Mix(key + (ulong)i * 0x9E3779B97F4A7C15UL) % (ulong)(i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

/// <summary>Batches of example indices for one task: consecutive slices of shuffled passes, a new pass when one runs out
/// (a batch never spans two passes, as a PyTorch DataLoader with <c>shuffle=True</c> cycled by epochs).</summary>
internal sealed class TintingBatches
{
    private readonly ulong _seed;
    private readonly int _task, _count;
    private int _pass = -1, _next;
    private int[] _order = [];

    /// <summary>Batches over <paramref name="count"/> examples of task <paramref name="task"/>.</summary>
    public TintingBatches(ulong seed, int task, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _seed = seed; _task = task; _count = count;
    }

    /// <summary>The next batch of up to <paramref name="batchSize"/> indices (fewer at the end of a pass).</summary>
    public ReadOnlySpan<int> Next(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (_pass < 0 || _next >= _count)
        {
            _pass++;
            _order = TintingSchedule.ExampleOrder(_seed, _task, _pass, _count);
            _next = 0;
        }
        int b = Math.Min(batchSize, _count - _next);
        var slice = _order.AsSpan(_next, b);
        _next += b;
        return slice;
    }
}
