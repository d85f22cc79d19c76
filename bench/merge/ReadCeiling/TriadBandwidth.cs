using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNetMerge.Bench.ReadCeiling;

/// <summary>
/// Memory bandwidth, STREAM triad: a[i] = b[i] + s · c[i] over three float arrays of at least
/// 400 MB each, warm (touched and run once untimed), split in contiguous halves over the threads;
/// best of several runs. GB/s counts 3 arrays × 4 bytes per element (two reads, one write, as
/// STREAM does: write-allocate traffic is not counted) over 10^9 bytes.
/// </summary>
internal static class TriadBandwidth
{
    /// <summary>Runs the triad; returns (bytes counted per run, best seconds).</summary>
    public static (long Bytes, double BestSeconds) Measure(long elements, int threads, int runs)
    {
        float[] a = GC.AllocateUninitializedArray<float>(checked((int)elements)); // (n,) output
        float[] b = GC.AllocateUninitializedArray<float>((int)elements);          // (n,) input
        float[] c = GC.AllocateUninitializedArray<float>((int)elements);          // (n,) input
        RunParallel(threads, elements, (lo, hi) =>
        {
            a.AsSpan(lo, hi - lo).Fill(0f);
            b.AsSpan(lo, hi - lo).Fill(1f);
            c.AsSpan(lo, hi - lo).Fill(2f);
        });
        const float s = 3f;
        RunParallel(threads, elements, (lo, hi) => Triad(a.AsSpan(lo, hi - lo), b.AsSpan(lo, hi - lo), c.AsSpan(lo, hi - lo), s));
        double best = double.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long start = Stopwatch.GetTimestamp();
            RunParallel(threads, elements, (lo, hi) => Triad(a.AsSpan(lo, hi - lo), b.AsSpan(lo, hi - lo), c.AsSpan(lo, hi - lo), s));
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        if (a[0] != 1f + s * 2f || a[^1] != 1f + s * 2f)
            throw new InvalidOperationException($"triad produced {a[0]} and {a[^1]}, expected {1f + s * 2f}");
        return (3L * sizeof(float) * elements, best);
    }

    /// <summary>a[i] = b[i] + s · c[i].</summary>
    private static void Triad(Span<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, float s)
    {
        var av = MemoryMarshal.Cast<float, Vector<float>>(a);
        var bv = MemoryMarshal.Cast<float, Vector<float>>(b);
        var cv = MemoryMarshal.Cast<float, Vector<float>>(c);
        var sv = new Vector<float>(s);
        for (int i = 0; i < av.Length; i++)
            av[i] = Vector.FusedMultiplyAdd(cv[i], sv, bv[i]);
        for (int i = av.Length * Vector<float>.Count; i < a.Length; i++)
            a[i] = b[i] + s * c[i];
    }

    /// <summary>Static partition of [0, n) into <paramref name="threads"/> contiguous ranges, one thread each.</summary>
    private static void RunParallel(int threads, long n, Action<int, int> body)
    {
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int lo = (int)(n * t / threads), hi = (int)(n * (t + 1) / threads);
            workers[t] = new Thread(() => body(lo, hi));
            workers[t].Start();
        }
        foreach (Thread w in workers)
            w.Join();
    }
}
