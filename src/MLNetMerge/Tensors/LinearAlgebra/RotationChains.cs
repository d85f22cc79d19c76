using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Deferred application of the plane-rotation chains of an implicit QL (or QR) iteration to the rows of a dense
/// matrix Zᵀ (n, n). One QL sweep on the tridiagonal rows l..m is the chain of rotations i = m−1, m−2, …, l, rotation i
/// acting on rows i and i+1: <c>z_i ← c·z_i − s·z_{i+1}</c>, <c>z_{i+1} ← s·z_i + c·z_{i+1}</c>. Applied row pair by row
/// pair, every rotation streams two full rows through the cache, and the whole of Zᵀ (4.7 MB at n = 768) once per
/// sweep. Here the (c, s) of many sweeps are recorded, and then applied one column strip at a time (16 doubles in
/// four 256-bit vectors): the strip of Zᵀ stays in L1/L2 for all the recorded sweeps, and inside a chain
/// the row that rotation i hands on to rotation i−1 stays in registers (each rotation loads and stores one row segment
/// instead of two). Every element goes through the same rotations in the same order with the same two expressions, so
/// the result is bit-identical to rotating whole rows one rotation at a time.
/// </summary>
internal sealed class RotationChains
{
    private readonly double[] _zt;     // (n, n) the rows being rotated
    private readonly int _n;
    private readonly double[] _c;      // (capacity) cosines of the recorded rotations, chain after chain
    private readonly double[] _s;      // (capacity) sines
    private readonly List<(int Top, int Bottom, int Start)> _chains = []; // rotations Top, Top−1, …, Bottom at _c[Start..]
    private int _count;

    /// <summary>A buffer for rotations of the rows of <paramref name="zt"/> (n, n), flushed every <paramref name="capacity"/> rotations.</summary>
    internal RotationChains(double[] zt, int n, int capacity)
    {
        _zt = zt;
        _n = n;
        _c = new double[Math.Max(capacity, n)];
        _s = new double[Math.Max(capacity, n)];
    }

    /// <summary>Starts a chain whose first rotation acts on rows <paramref name="top"/> and top+1; flushes first when a full chain might not fit.</summary>
    internal void Begin(int top)
    {
        if (_count + top + 1 > _c.Length) Flush();
        _chains.Add((top, top + 1, _count));
    }

    /// <summary>Records the next rotation of the open chain (rows i, i+1, where i is one below the previous one).</summary>
    internal void Add(double c, double s)
    {
        var chain = _chains[^1];
        _chains[^1] = chain with { Bottom = chain.Bottom - 1 };
        _c[_count] = c;
        _s[_count] = s;
        _count++;
    }

    /// <summary>Applies every recorded rotation, in order, and empties the buffer.</summary>
    internal void Flush()
    {
        if (_chains.Count == 0) return;
        int n = _n, col = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; col <= n - 16; col += 16) Strip256(col);
        for (; col < n; col++) Column(col);
        _chains.Clear();
        _count = 0;
    }

    private void Strip256(int col)
    {
        var z = _zt;
        int n = _n;
        foreach (var (top, bottom, start) in _chains)
        {
            if (bottom > top) continue;
            int r = (top + 1) * n + col;
            var y0 = Vector256.Create(z.AsSpan(r, 4));
            var y1 = Vector256.Create(z.AsSpan(r + 4, 4));
            var y2 = Vector256.Create(z.AsSpan(r + 8, 4));
            var y3 = Vector256.Create(z.AsSpan(r + 12, 4));
            for (int i = top, k = start; i >= bottom; i--, k++)
            {
                var vc = Vector256.Create(_c[k]);
                var vs = Vector256.Create(_s[k]);
                int x = i * n + col;
                var x0 = Vector256.Create(z.AsSpan(x, 4));
                var x1 = Vector256.Create(z.AsSpan(x + 4, 4));
                var x2 = Vector256.Create(z.AsSpan(x + 8, 4));
                var x3 = Vector256.Create(z.AsSpan(x + 12, 4));
                (vs * x0 + vc * y0).CopyTo(z.AsSpan(x + n, 4));
                (vs * x1 + vc * y1).CopyTo(z.AsSpan(x + n + 4, 4));
                (vs * x2 + vc * y2).CopyTo(z.AsSpan(x + n + 8, 4));
                (vs * x3 + vc * y3).CopyTo(z.AsSpan(x + n + 12, 4));
                y0 = vc * x0 - vs * y0;
                y1 = vc * x1 - vs * y1;
                y2 = vc * x2 - vs * y2;
                y3 = vc * x3 - vs * y3;
            }
            int b = bottom * n + col;
            y0.CopyTo(z.AsSpan(b, 4));
            y1.CopyTo(z.AsSpan(b + 4, 4));
            y2.CopyTo(z.AsSpan(b + 8, 4));
            y3.CopyTo(z.AsSpan(b + 12, 4));
        }
    }

    private void Column(int col)
    {
        var z = _zt;
        int n = _n;
        foreach (var (top, bottom, start) in _chains)
        {
            if (bottom > top) continue;
            double y = z[(top + 1) * n + col];
            for (int i = top, k = start; i >= bottom; i--, k++)
            {
                double c = _c[k], s = _s[k], x = z[i * n + col];
                z[(i + 1) * n + col] = s * x + c * y;
                y = c * x - s * y;
            }
            z[bottom * n + col] = y;
        }
    }
}
