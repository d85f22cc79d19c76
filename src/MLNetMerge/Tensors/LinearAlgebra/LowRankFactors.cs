namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Rank-r factors of a (Rows, Cols) matrix, <c>A_r = U diag(S) Vᵀ</c>: U (Rows, Rank) with orthonormal columns,
/// S (Rank) descending, Vᵀ (Rank, Cols) with orthonormal rows. Row-major float32.
/// </summary>
internal sealed class LowRankFactors
{
    /// <summary>Creates factors from their arrays (not copied).</summary>
    /// <exception cref="ArgumentException">An array's length does not match the dimensions.</exception>
    public LowRankFactors(int rows, int cols, int rank, float[] u, float[] s, float[] vt)
    {
        if (rows < 0 || cols < 0 || rank < 0) throw new ArgumentException($"Low-rank factors: negative dimensions ({rows}, {cols}, rank {rank}).");
        if (u.Length != rows * rank || s.Length != rank || vt.Length != rank * cols)
            throw new ArgumentException($"Low-rank factors: U must be ({rows}, {rank}), S ({rank}), Vt ({rank}, {cols}); got lengths {u.Length}, {s.Length}, {vt.Length}.");
        Rows = rows;
        Cols = cols;
        Rank = rank;
        U = u;
        S = s;
        Vt = vt;
    }

    /// <summary>Rows of the approximated matrix.</summary>
    public int Rows { get; }

    /// <summary>Columns of the approximated matrix.</summary>
    public int Cols { get; }

    /// <summary>Number of singular triplets kept.</summary>
    public int Rank { get; }

    /// <summary>Left singular vectors as columns, (Rows, Rank).</summary>
    public float[] U { get; }

    /// <summary>Singular values, descending, (Rank).</summary>
    public float[] S { get; }

    /// <summary>Right singular vectors as rows, (Rank, Cols).</summary>
    public float[] Vt { get; }

    /// <summary>
    /// Adds <c>alpha · U diag(S) Vᵀ</c> into <paramref name="destination"/> (Rows, Cols), row-major:
    /// <c>D[i, j] += alpha · Σ_t U[i, t] S[t] Vᵀ[t, j]</c> (one GEMM over U scaled by S).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than Rows · Cols.</exception>
    public void AddTo(Span<float> destination, float alpha = 1f)
    {
        DenseKernels.Require("Low-rank destination", destination.Length, Rows, Cols);
        if (Rank == 0 || alpha == 0f) return;
        var us = BufferPool<float>.Shared.Rent((long)Rows * Rank); // (Rows, Rank) U·diag(S)
        try
        {
            for (int i = 0; i < Rows; i++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(U.AsSpan(i * Rank, Rank), S, us.AsSpan(i * Rank, Rank));
            Gemm.Multiply(false, false, Rows, Cols, Rank, alpha, us, Rank, Vt, Cols, 1f, destination, Cols);
        }
        finally
        {
            BufferPool<float>.Shared.Return(us);
        }
    }
}
