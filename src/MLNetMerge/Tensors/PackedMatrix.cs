using System.Runtime.InteropServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// op(B) of a GEMM packed once into the panels the packed driver reads (<see cref="GemmDriver"/>), for a B that many
/// products share: an inference layer's weight over every batch of a data set. A product given it skips packing B
/// (ONNX Runtime's MLAS likewise packs a constant weight when its session is created). The panels are the same floats
/// the driver would pack, so a product from them gives the same bits as from B itself. A matrix is used by one thread's
/// products at a time (the first one fills it).
/// Layout for kernel path P (NR, KC of its blocking), nPadded = ⌈n / NR⌉ · NR:
/// <code>
/// data (nPadded, k): k-block pc (kc = min(KC, k − pc)) at pc · nPadded, as ⌈n / NR⌉ panels of (kc, NR)
/// </code>
/// Held in native memory (it never moves, and the GC does not scan it); <see cref="Dispose"/> keeps the buffer for the next
/// matrix of the same size (a model's next scope), <see cref="TrimPool"/> frees what is kept.
/// </summary>
internal sealed unsafe class PackedMatrix : IDisposable
{
    private float* _data; // (nPadded, k) as above, 64-byte aligned

    private PackedMatrix(GemmPath path, bool transB, int n, int k, float* data)
    {
        Path = path; TransB = transB; N = n; K = k; _data = data;
    }

    /// <summary>The kernel path whose blocking the panels follow.</summary>
    internal GemmPath Path { get; }

    /// <summary>Whether B was stored (n, k) (op(B) = Bᵀ).</summary>
    internal bool TransB { get; }

    /// <summary>Columns of op(B).</summary>
    internal int N { get; }

    /// <summary>Rows of op(B) (the product's inner dimension).</summary>
    internal int K { get; }

    /// <summary>The panels; valid until <see cref="Dispose"/>.</summary>
    internal float* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(PackedMatrix));

    /// <summary>True once the panels hold all of op(B): packed by <see cref="TryCreate"/>, or by the first product given
    /// this matrix (<see cref="TryAllocate"/>), whose parts pack B into it instead of into a buffer of their own.</summary>
    internal bool IsComplete { get; private set; }

    /// <summary>Records that a product packed every panel.</summary>
    internal void MarkComplete() => IsComplete = true;

    /// <summary>
    /// Room for op(B) (k, n) packed for <paramref name="path"/>, not packed yet: the first product given it packs B into it
    /// (with all its threads, as it would into its own buffer) and later products read it. Null where the driver would not
    /// read one whole packed B: a B too large for one slab (<see cref="GemmDriver.PackedBCap"/>) is packed per slab in the
    /// product itself.
    /// </summary>
    /// <param name="path">Kernel path of the products that will use it.</param>
    /// <param name="transB">B stored (n, k), else (k, n): which B the products will give with it.</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="k">Rows of op(B).</param>
    internal static PackedMatrix? TryAllocate(GemmPath path, bool transB, int n, int k)
    {
        if (n <= 0 || k <= 0 || !GemmDriver.IsOneSlab(path, n, k)) return null;
        return new PackedMatrix(path, transB, n, k, RentPanels(GemmDriver.PackedFloats(path, n, k)));
    }

    // Freed panels by exact size, kept for the next matrix of that size: first touch of fresh memory costs about 13 µs a
    // 4 KiB page on the machines this library targets (0.3 GB/s), which for a ViT-B/32's 340 MB of panels is about a
    // second, several forwards' worth. A model's weights come in a few shapes, so exact sizes match from scope to scope.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, System.Collections.Concurrent.ConcurrentBag<nint>> s_free = new();

    private static float* RentPanels(long floats)
    {
        if (s_free.TryGetValue(floats, out var bag) && bag.TryTake(out nint p)) return (float*)p;
        return (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
    }

    /// <summary>Frees every kept panel buffer (they are kept after <see cref="Dispose"/> for the next matrix of their size).</summary>
    internal static void TrimPool()
    {
        foreach (var bag in s_free.Values)
            while (bag.TryTake(out nint p)) NativeMemory.AlignedFree((void*)p);
    }

    /// <summary>op(B) (k, n) packed now for <paramref name="path"/>, or null as for <see cref="TryAllocate"/>.</summary>
    /// <param name="path">Kernel path of the products that will use it.</param>
    /// <param name="transB">B stored (n, k) with row stride <paramref name="ldb"/>, else (k, n).</param>
    /// <param name="b">B's storage.</param>
    /// <param name="ldb">B's row stride.</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="k">Rows of op(B).</param>
    /// <exception cref="ArgumentException"><paramref name="b"/> does not hold op(B).</exception>
    internal static PackedMatrix? TryCreate(GemmPath path, bool transB, ReadOnlySpan<float> b, int ldb, int n, int k)
    {
        if (n > 0 && k > 0) Gemm.CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        var packed = TryAllocate(path, transB, n, k);
        if (packed == null) return null;
        fixed (float* pb = b) GemmDriver.PackWhole(path, transB, pb, ldb, n, k, packed._data);
        packed.IsComplete = true;
        return packed;
    }

    /// <summary>
    /// True when this packs op(B) of (<paramref name="k"/>, <paramref name="n"/>) for <paramref name="path"/>, or, once
    /// complete, an op(B) with more columns whose first <paramref name="n"/> are B's: a product may read the leading panels
    /// of a complete matrix (the panels of columns 0..n are the same floats whatever follows them; a last panel's columns
    /// past n are computed into a scratch tile and dropped), as the blocks of a symmetric product read growing prefixes of
    /// one packed operand (<see cref="LinearAlgebra.TriangularGram"/>).
    /// </summary>
    internal bool Fits(GemmPath path, bool transB, int n, int k) =>
        _data != null && path == Path && transB == TransB && k == K && (n == N || (n < N && IsComplete));

    /// <summary>Gives the panels back (kept for the next matrix of this size; <see cref="TrimPool"/> frees them).</summary>
    public void Dispose()
    {
        if (_data != null) s_free.GetOrAdd(GemmDriver.PackedFloats(Path, N, K), _ => []).Add((nint)_data);
        _data = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the panels of a matrix never disposed.</summary>
    ~PackedMatrix()
    {
        if (_data != null) NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
