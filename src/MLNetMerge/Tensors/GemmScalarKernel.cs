namespace MLNetMerge.Tensors;

/// <summary>
/// Portable micro-kernel for processors without AVX2/FMA: the same contract as <see cref="GemmKernels"/>
/// (<c>acc[r, j] = Σ_p Ap[p, r] · Bp[p, j]</c> in increasing p, then <c>C = alpha · acc + beta · C</c>) in plain scalar code.
/// </summary>
internal static unsafe class GemmScalarKernel
{
    /// <summary>Rows of the scalar tile.</summary>
    internal const int Mr = 4;

    /// <summary>Columns of the scalar tile.</summary>
    internal const int Nr = 8;

    /// <summary>One Mr×Nr tile; Ap is (kc, Mr) and Bp is (kc, Nr), packed. C is read only when <paramref name="loadC"/>.</summary>
    internal static void Tile(int kc, float* ap, float* bp, float* c, int ldc, float alpha, float beta, bool loadC)
    {
        float* acc = stackalloc float[Mr * Nr]; // (Mr, Nr)
        for (int i = 0; i < Mr * Nr; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < Mr; r++)
            {
                float av = ap[r];
                float* row = acc + r * Nr;
                for (int j = 0; j < Nr; j++) row[j] += av * bp[j];
            }
            ap += Mr;
            bp += Nr;
        }
        for (int r = 0; r < Mr; r++)
        {
            float* cr = c + (long)r * ldc;
            float* row = acc + r * Nr;
            if (loadC) for (int j = 0; j < Nr; j++) cr[j] = alpha * row[j] + beta * cr[j];
            else for (int j = 0; j < Nr; j++) cr[j] = alpha * row[j];
        }
    }
}
