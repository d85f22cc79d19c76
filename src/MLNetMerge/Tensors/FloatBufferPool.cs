using System.Collections.Concurrent;
using System.Numerics;

namespace MLNetMerge.Tensors;

/// <summary>
/// A pool of float32 arrays in power-of-two size classes. First touch of fresh memory is slow on the machines this
/// library targets (about 0.3 GB/s for a new large array against 15+ GB/s into a warm one), so hot paths rent
/// buffers here and return them, and a streaming merge touches each page once per run instead of once per tensor.
/// Rented arrays are not cleared: callers overwrite what they use.
/// </summary>
internal sealed class FloatBufferPool
{
    private readonly ConcurrentBag<float[]>[] _buckets = new ConcurrentBag<float[]>[32];

    /// <summary>The process-wide pool.</summary>
    public static FloatBufferPool Shared { get; } = new();

    /// <summary>Creates an empty pool.</summary>
    public FloatBufferPool()
    {
        for (int i = 0; i < _buckets.Length; i++) _buckets[i] = new ConcurrentBag<float[]>();
    }

    /// <summary>Rents an array of at least <paramref name="minimumLength"/> elements (contents unspecified).</summary>
    public float[] Rent(long minimumLength)
    {
        if (minimumLength > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(minimumLength), $"{minimumLength} elements exceed one array.");
        int bucket = Bucket((int)Math.Max(1, minimumLength));
        if (_buckets[bucket].TryTake(out var array)) return array;
        long size = Math.Min(1L << bucket, Array.MaxLength);
        return GC.AllocateUninitializedArray<float>((int)size);
    }

    /// <summary>Returns an array obtained from <see cref="Rent"/>.</summary>
    public void Return(float[] array)
    {
        int bucket = Bucket(array.Length);
        if ((1L << bucket) != array.Length && array.Length != Array.MaxLength) return; // not one of ours
        _buckets[bucket].Add(array);
    }

    /// <summary>Drops every pooled array so the memory can be collected.</summary>
    public void Trim()
    {
        foreach (var b in _buckets) b.Clear();
    }

    private static int Bucket(int length) => length <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(length - 1));
}
