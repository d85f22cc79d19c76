using System.Buffers;

namespace MLNetMerge.Tensors;

/// <summary>Reused byte buffers for raw reads and dtype conversion at the I/O boundary (thread-safe).</summary>
internal static class ByteBufferPool
{
    private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: int.MaxValue / 2, maxArraysPerBucket: 8);

    /// <summary>Rents at least <paramref name="length"/> bytes.</summary>
    public static byte[] Rent(long length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.MaxLength);
        return Pool.Rent((int)Math.Max(length, 1));
    }

    /// <summary>Returns a rented buffer.</summary>
    public static void Return(byte[] buffer) => Pool.Return(buffer);
}
