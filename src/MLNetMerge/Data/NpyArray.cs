using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>
/// An array read from, or to be written to, a NumPy <c>.npy</c> file: element type, shape (C order, row-major) and the
/// elements as little-endian bytes. A 0-d array (a scalar) has an empty <see cref="Shape"/> and one element.
/// </summary>
internal sealed class NpyArray
{
    /// <summary>Wraps <paramref name="data"/> (little-endian bytes, C order) as an array of <paramref name="shape"/>.</summary>
    /// <param name="dtype">Element type; one of those <see cref="NpyFile"/> supports.</param>
    /// <param name="shape">Dimensions, outermost first; empty for a scalar.</param>
    /// <param name="data">The elements, <c>product(shape) * dtype.SizeOf()</c> bytes. Not copied.</param>
    /// <exception cref="ArgumentException">A dimension is negative or the byte count does not match the shape.</exception>
    public NpyArray(DType dtype, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = ElementCountOf(shape);
        if (count * dtype.SizeOf() != data.Length)
            throw new ArgumentException($"{data.Length} bytes do not hold shape {FormatShape(shape)} of {dtype} ({count} elements of {dtype.SizeOf()} bytes).", nameof(data));
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions, outermost first (C order); empty for a 0-d array.</summary>
    public int[] Shape { get; }

    /// <summary>The elements as little-endian bytes, in C order.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => Data.Length / DType.SizeOf();

    /// <summary>The elements converted to float32: floats are rounded to nearest, integers converted, bools give 0 or 1.</summary>
    public float[] ToFloat32()
    {
        var result = new float[ElementCount];
        NpyConversion.ToFloat32(Data, DType, result);
        return result;
    }

    /// <summary>The elements as int64; the type must be an integer or bool type.</summary>
    /// <exception cref="InvalidOperationException">The elements are floating point, or a uint64 value exceeds <see cref="long.MaxValue"/>.</exception>
    public long[] ToInt64()
    {
        var result = new long[ElementCount];
        if (!NpyConversion.TryToInt64(Data, DType, result, out string? problem))
            throw new InvalidOperationException(problem);
        return result;
    }

    /// <summary>Product of the dimensions, checked: every dimension must be non-negative.</summary>
    internal static long ElementCountOf(int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape {FormatShape(shape)} has a negative dimension.", nameof(shape));
            count = checked(count * d);
        }
        return count;
    }

    /// <summary>Python's spelling of a shape tuple: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    internal static string FormatShape(IReadOnlyList<int> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0]},)",
        _ => "(" + string.Join(", ", shape) + ")",
    };
}
