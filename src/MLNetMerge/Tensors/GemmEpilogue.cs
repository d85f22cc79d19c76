using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors;

/// <summary>
/// What a GEMM does to its result C (m, n) right after the last k-block of a register-tile row panel has been written,
/// while that panel is still in L1:
/// <code>
/// C[i, j] = (C[i, j] + bias[j]) + residual[i, j]       (each term only when given)
/// out[i, j] = f(C[i, j])                               (only when an activation is given)
/// </code>
/// The same element-wise operations, in the same order, as a separate bias add (<see cref="TensorPrimitives.Add(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>
/// row by row), residual add and activation pass after the product, so a fused layer gives the unfused layer's bits
/// (up to an activation kernel's own handling of a row's tail; see the kernels). The activation is a function pointer
/// <c>f(dst, src, count)</c> supplied by the layer (the Tensors layer knows no activations).
/// </summary>
internal readonly unsafe struct GemmEpilogue
{
    /// <summary>Bias (n) added to every row of C, or null.</summary>
    public float* Bias { get; init; }

    /// <summary>Residual (m, n) with row stride <see cref="LdResidual"/> added after the bias, or null.</summary>
    public float* Residual { get; init; }

    /// <summary>Row stride of <see cref="Residual"/>.</summary>
    public int LdResidual { get; init; }

    /// <summary>Activation output (m, n) with row stride <see cref="LdOutput"/>: <c>out = f(C)</c>; C keeps the pre-activation.</summary>
    public float* Output { get; init; }

    /// <summary>Row stride of <see cref="Output"/>.</summary>
    public int LdOutput { get; init; }

    /// <summary><c>f(dst, src, count)</c>: dst[0..count) = f(src[0..count)), or null for no activation.</summary>
    public delegate*<float*, float*, int, void> Activation { get; init; }

    /// <summary>True when the epilogue does nothing.</summary>
    public bool IsEmpty => Bias == null && Residual == null && Activation == null;

    /// <summary>
    /// Asks for the residual and activation-output lines of rows [i0, i0 + rows), columns [j0, j0 + cols) to be brought
    /// into L2 (no effect on the result): issued before a row panel's last k-block so that <see cref="Apply"/> finds them
    /// there. Without it, the residual's short row pieces (a 12-row panel is 12 separate streams of 20 lines) missed to
    /// memory in every panel: the fused 3072 → 768 + bias + residual took 1.3–1.8 ms longer than the plain product plus
    /// the separate passes (800 rows, one thread, AVX-512).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Prefetch(int i0, int rows, int j0, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int r = i0; r < i0 + rows; r++)
        {
            if (Residual != null) PrefetchRow(Residual + (long)r * LdResidual + j0, cols);
            if (Output != null) PrefetchRow(Output + (long)r * LdOutput + j0, cols);
        }
    }

    private static void PrefetchRow(float* row, int count)
    {
        byte* end = (byte*)(row + count);
        for (byte* line = (byte*)((nint)row & ~(nint)63); line < end; line += 64) Sse.Prefetch1(line);
    }

    /// <summary>Applies the epilogue to rows [i0, i0 + rows) and columns [j0, j0 + cols) of C (row stride <paramref name="ldc"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Apply(float* c, int ldc, int i0, int rows, int j0, int cols)
    {
        for (int r = i0; r < i0 + rows; r++)
        {
            var row = new Span<float>(c + (long)r * ldc + j0, cols); // (cols)
            if (Bias != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(Bias + j0, cols), row);
            if (Residual != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(Residual + (long)r * LdResidual + j0, cols), row);
            if (Activation != null) Activation(Output + (long)r * LdOutput + j0, c + (long)r * ldc + j0, cols);
        }
    }
}
