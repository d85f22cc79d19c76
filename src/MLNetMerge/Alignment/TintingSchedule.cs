using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// Tinting's seeded schedule: each round visits every task once in a freshly shuffled order (sequential updates), and
/// each task draws its batches from passes over its examples in shuffled order. Every permutation is a Fisher–Yates
/// shuffle (<see cref="SeededRandom.Shuffle{T}"/>) on the stream <c>("tinting.task_order", round)</c> or
/// <c>("tinting.examples.pass{p}", task)</c> of the run's seed: the same seed gives the same schedule on every machine.
/// </summary>
internal static class TintingSchedule
{
    /// <summary>The order in which round <paramref name="round"/> visits the <paramref name="taskCount"/> tasks.</summary>
    public static int[] TaskOrder(ulong seed, int round, int taskCount) =>
        Permutation(RandomStreams.Key(seed, "tinting.task_order", round), taskCount);

    /// <summary>The example order of pass <paramref name="pass"/> over task <paramref name="task"/>'s <paramref name="count"/> examples.</summary>
    public static int[] ExampleOrder(ulong seed, int task, int pass, int count) =>
        Permutation(RandomStreams.Key(seed, "tinting.examples.pass" + pass.ToString(System.Globalization.CultureInfo.InvariantCulture), task), count);

    /// <summary>A permutation of 0..n−1 drawn from stream <paramref name="key"/>.</summary>
    public static int[] Permutation(ulong key, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        new SeededRandom(key).Shuffle(p.AsSpan());
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
