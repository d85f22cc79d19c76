using System.Diagnostics;

namespace MLNetMerge.Bench.ReadCeiling;

/// <summary>
/// The file-read ceiling: every input file read front to back with <see cref="RandomAccess.Read(Microsoft.Win32.SafeHandles.SafeFileHandle, Span{byte}, long)"/>
/// into one reused buffer, page cache warm (one untimed pass first), one thread; best of several passes.
/// GB/s = total file bytes / seconds of the pass (10^9 bytes).
/// </summary>
internal static class FileReadCeiling
{
    /// <summary>Size of the one reused read buffer: 64 MiB.</summary>
    public const int BufferBytes = 64 << 20;

    /// <summary>Runs one untimed warm-up pass and <paramref name="passes"/> timed ones; returns (bytes per pass, best seconds).</summary>
    public static (long Bytes, double BestSeconds) Measure(IReadOnlyList<string> paths, int passes)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(BufferBytes); // (64 MiB) reused for every read
        buffer.AsSpan().Clear(); // first touch outside the timed passes
        long bytes = ReadAll(paths, buffer);
        double best = double.MaxValue;
        for (int pass = 0; pass < passes; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            long read = ReadAll(paths, buffer);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            if (read != bytes)
                throw new IOException($"pass {pass} read {read} bytes, the warm-up pass read {bytes}: did a file change?");
        }
        return (bytes, best);
    }

    private static long ReadAll(IReadOnlyList<string> paths, byte[] buffer)
    {
        long total = 0;
        foreach (string path in paths)
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long offset = 0;
            while (true)
            {
                int n = RandomAccess.Read(handle, buffer, offset);
                if (n == 0)
                    break;
                offset += n;
            }
            total += offset;
        }
        return total;
    }
}
