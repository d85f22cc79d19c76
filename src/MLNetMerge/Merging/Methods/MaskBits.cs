using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>Per-element masks packed 8 per byte, element j in byte j/8 at bit j%8 (least significant first, numpy's <c>packbits(bitorder="little")</c>).</summary>
internal static class MaskBits
{
    /// <summary>Bytes needed for <paramref name="elements"/> mask bits.</summary>
    public static int ByteCount(long elements) => checked((int)((elements + 7) / 8));

    /// <summary>The modulator entry of task <paramref name="task"/>'s mask for <paramref name="tensor"/>: <c>masks.{task}.{tensor}</c>, U8.</summary>
    public static TensorEntry Entry(string task, TensorInfo tensor) => new($"masks.{task}.{tensor.Name}", DType.U8, [ByteCount(tensor.ElementCount)]);

    /// <summary>Reads bit j.</summary>
    public static bool Get(ReadOnlySpan<byte> bits, int j) => (bits[j >> 3] & (1 << (j & 7))) != 0;
}
