using MLNetMerge.Data;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// Draws batches from each task's dataset without replacement: every pass over a task's examples follows a fresh seeded
/// permutation (Fisher–Yates on the stream <c>RandomStreams.Key(seed, "batches.pass" + pass, task)</c>), so a run is reproducible from its seed.
/// </summary>
internal sealed class TaskBatches
{
    private readonly IReadOnlyList<TaskDataset> _data;
    private readonly int[][] _order;
    private readonly int[] _cursor;
    private readonly int[] _pass;
    private readonly ulong _seed;

    /// <summary>Creates the sampler.</summary>
    /// <param name="data">Each task's examples.</param>
    /// <param name="batchSize">Examples per batch (a task with fewer examples gives all of them).</param>
    /// <param name="seed">Seed of the permutations.</param>
    public TaskBatches(IReadOnlyList<TaskDataset> data, int batchSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _data = data;
        _seed = seed;
        BatchSize = batchSize;
        _order = new int[data.Count][];
        _cursor = new int[data.Count];
        _pass = new int[data.Count];
        for (int t = 0; t < data.Count; t++) Shuffle(t);
    }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    private void Shuffle(int task)
    {
        int n = _data[task].Count;
        var order = _order[task] ??= new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        RandomStreams.Create(_seed, "batches.pass" + _pass[task].ToString(System.Globalization.CultureInfo.InvariantCulture), task).Shuffle(order.AsSpan());
        _cursor[task] = 0;
        _pass[task]++;
    }

    /// <summary>Copies the next batch of <paramref name="task"/> into <paramref name="buffer"/> (B, F) and returns B.</summary>
    public int Next(int task, Span<float> buffer)
    {
        var set = _data[task];
        int b = Math.Min(BatchSize, set.Count), f = set.FeatureLength;
        for (int i = 0; i < b; i++)
        {
            if (_cursor[task] == set.Count) Shuffle(task);
            set.Example(_order[task][_cursor[task]++]).CopyTo(buffer.Slice(i * f, f));
        }
        return b;
    }
}
