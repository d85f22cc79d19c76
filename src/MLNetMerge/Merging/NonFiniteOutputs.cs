using System.Numerics.Tensors;
using MLNetMerge.Errors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging;

/// <summary>
/// A merged value its output cannot hold. Without allow_nonfinite every input was checked finite, so a NaN or infinity
/// in a merged tensor is the merge's own — float32 overflowing on inputs near ±3.4e38 (τ = θt − θ0 of two such values)
/// — and so is a value that rounds to ±inf in a narrower output dtype (beyond float16's 65504, or bfloat16's largest
/// value); either is refused, naming the tensor, the element and the dtype, rather than written as ±inf.
/// </summary>
internal static class NonFiniteOutputs
{
    /// <summary>The smallest magnitude that rounds to ±inf in <paramref name="dtype"/> (round to nearest, ties to even:
    /// float16's halfway point 65520 and bfloat16's 0x7F7F8000 round up to inf); +inf for float32 and float64.</summary>
    public static float Overflow(DType dtype) => dtype switch
    {
        DType.F16 => 65520f,
        DType.BF16 => BitConverter.Int32BitsToSingle(0x7F7F8000),
        _ => float.PositiveInfinity,
    };

    /// <summary>Throws for the first value of <paramref name="values"/> (elements from <paramref name="offset"/> of
    /// tensor <paramref name="tensor"/>) that is not finite or that <paramref name="dtype"/> would hold as ±inf.</summary>
    /// <exception cref="NonFiniteTensorException">Such a value.</exception>
    public static void Check(string tensor, ReadOnlySpan<float> values, long offset, DType dtype, string? output = null)
    {
        if (values.IsEmpty) return;
        float limit = Overflow(dtype);
        if (Math.Abs(TensorPrimitives.MaxMagnitude(values)) < limit) return; // the largest magnitude keeps its sign; NaN fails the comparison
        int at = 0;
        while (at < values.Length && Math.Abs(values[at]) < limit) at++;
        float v = values[at];
        string where = output is null ? "" : $" of {output}";
        throw new NonFiniteTensorException(null, tensor, float.IsFinite(v)
            ? $"merged element {offset + at}{where} is {v:G6}, beyond {dtype.ToRecipeName()}'s range (largest {(dtype == DType.F16 ? "65504" : "3.39e38")}), and would be written as ±inf; " +
              "set dtype: float32 (or a smaller scale), or pass --allow-nonfinite to write ±inf."
            : $"merged element {offset + at}{where} is {v} although every input is finite (float32 overflowed: inputs near ±3.4e38); " +
              "pass --allow-nonfinite to write it anyway.");
    }
}
