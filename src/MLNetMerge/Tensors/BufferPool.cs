using System.Collections.Concurrent;
using System.Numerics;

namespace MLNetMerge.Tensors;

/// <summary>
/// A pool of arrays (float32 for tensors, float64 for the dense solvers' workspaces) in power-of-two size classes. First touch of fresh memory is slow on the machines this
/// library targets (about 0.3 GB/s for a new large array against 15+ GB/s into a warm one), so hot paths rent
/// buffers here and return them, and a streaming merge touches each page once per run instead of once per tensor.
/// Rented arrays are not cleared: callers overwrite what they use. Unlike <c>ArrayPool&lt;T&gt;.Shared</c>, whose per-thread
/// caches keep an array per size class on every thread that ever returned one (a merge that spreads its SVDs over
/// thread-pool threads kept a 32 MiB float64 workspace on each), one array returned here serves whichever thread rents next.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
internal sealed class BufferPool<T> where T : unmanaged
{
    private readonly ConcurrentBag<T[]>[] _buckets = new ConcurrentBag<T[]>[32];

    /// <summary>The process-wide pool of this element type.</summary>
    public static BufferPool<T> Shared { get; } = new();

    /// <summary>Creates an empty pool.</summary>
    public BufferPool()
    {
        for (int i = 0; i < _buckets.Length; i++) _buckets[i] = new ConcurrentBag<T[]>();
    }

    /// <summary>Rents an array of at least <paramref name="minimumLength"/> elements (contents unspecified).</summary>
    public T[] Rent(long minimumLength)
    {
        if (minimumLength > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(minimumLength), $"{minimumLength} elements exceed one array.");
        int bucket = Bucket((int)Math.Max(1, minimumLength));
        if (_buckets[bucket].TryTake(out var array)) return array;
        long size = Math.Min(1L << bucket, Array.MaxLength);
        return GC.AllocateUninitializedArray<T>((int)size);
    }

    /// <summary>Returns an array obtained from <see cref="Rent"/>.</summary>
    public void Return(T[] array)
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
