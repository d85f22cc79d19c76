using System.Numerics.Tensors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// The GEMM epilogue (bias, residual, activation applied per row panel inside the packed product) against the same
/// product without it followed by separate passes: bit for bit on every kernel path the CPU has (the path is forced
/// through <see cref="Gemm.MultiplyCore(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int, int, GemmPath, in GemmEpilogue, PackedMatrix)"/>,
/// so AVX2 is covered on an AVX-512 machine), with 1 and 2 threads, on shapes with partial row and column tiles.
/// </summary>
[TestClass]
public sealed unsafe class GemmEpilogueTests
{
    private static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>f(x) = 2x + 1: exact in float32 for these magnitudes, so any misplaced, skipped or repeated element shows.</summary>
    private static void TwiceplusOne(float* dst, float* src, int count)
    {
        for (int i = 0; i < count; i++) dst[i] = 2f * src[i] + 1f;
    }

    private static IEnumerable<GemmPath> Paths()
    {
        yield return GemmPath.Scalar;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported) yield return GemmPath.Avx2;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) yield return GemmPath.Avx512;
    }

    [TestMethod]
    [DataRow(150, 264, 200)]   // partial row tiles on every path, several column blocks
    [DataRow(97, 1000, 64)]    // a partial last column block (1000 = 3·256 + 232 / 3·320 + 40)
    [DataRow(2, 37, 19)]       // the unpacked direct path (m ≤ 2)
    [DataRow(130, 300, 0)]     // k = 0: C = beta·C, then the epilogue
    public void EpilogueEqualsSeparatePassesBitForBit(int m, int n, int k)
    {
        int lda = k + 3, ldb = k + 1, ldc = n + 5, ldr = n + 2, ldo = n + 7;
        var a = Random(m * lda, 1); var b = Random(n * ldb, 2); var bias = Random(n, 3); var residual = Random(m * ldr, 4);
        var c0 = Random(m * ldc, 5);
        foreach (var path in Paths())
            foreach (int threads in new[] { 1, 2 })
            foreach (var (useBias, useResidual) in new[] { (true, true), (true, false), (false, true) })
            {
                // Reference: the plain product, then bias, residual and f as separate passes over C.
                var expected = (float[])c0.Clone();
                Gemm.MultiplyCore(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, expected, ldc, threads, path);
                var expectedOut = new float[m * ldo];
                for (int i = 0; i < m; i++)
                {
                    var row = expected.AsSpan(i * ldc, n);
                    if (useBias) TensorPrimitives.Add(row, bias, row);
                    if (useResidual) TensorPrimitives.Add(row, residual.AsSpan(i * ldr, n), row);
                    for (int j = 0; j < n; j++) expectedOut[i * ldo + j] = 2f * row[j] + 1f;
                }
                var got = (float[])c0.Clone();
                var gotOut = new float[m * ldo];
                fixed (float* pb = bias, pr = residual, po = gotOut)
                {
                    var epilogue = new GemmEpilogue { Bias = useBias ? pb : null, Residual = useResidual ? pr : null, LdResidual = ldr, Output = po, LdOutput = ldo, Activation = &TwiceplusOne };
                    Gemm.MultiplyCore(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, got, ldc, threads, path, epilogue);
                }
                for (int i = 0; i < got.Length; i++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(got[i]), $"{path}, {threads} threads, {m}x{n}x{k}, bias {useBias}, residual {useResidual}: C element {i}");
                for (int i = 0; i < gotOut.Length; i++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expectedOut[i]), BitConverter.SingleToInt32Bits(gotOut[i]), $"{path}, {threads} threads, {m}x{n}x{k}, bias {useBias}, residual {useResidual}: output element {i}");
            }
    }

    [TestMethod]
    public void BiasOnlyEpilogueRunsOnceAfterTheLastKSlabOnEveryColumnSlab()
    {
        // k = 17000 > 16384 makes the AVX2 path run two k-slabs and three column slabs (a thread's packed B is capped at
        // 2^22 floats): the epilogue must run once, after the last k-slab, on every column slab (bias offset by its first column).
        int m = 20, n = 700, k = 17000;
        var a = Random(m * k, 11); var b = Random(n * k, 12); var bias = Random(n, 13);
        foreach (var path in Paths())
        {
            var expected = new float[m * n];
            Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, expected, n, 2, path);
            for (int i = 0; i < m; i++) TensorPrimitives.Add(expected.AsSpan(i * n, n), bias, expected.AsSpan(i * n, n));
            var got = new float[m * n];
            fixed (float* pb = bias)
                Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, got, n, 2, path, new GemmEpilogue { Bias = pb });
            CollectionAssert.AreEqual(expected, got, $"{path}: bias epilogue over k- and column slabs");
        }
    }
}
