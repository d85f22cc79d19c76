using System.Numerics.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Alignment;

/// <summary>
/// RegMean's closed form for one linear layer (Jin et al. 2023, arXiv:2212.09849): with each model's weight
/// <c>W_t</c> (Out, In) and the Gram matrix <c>G_t = X_tᵀX_t</c> (In, In) of its inputs on its task, off-diagonals are shrunk
/// <c>G̃_t = α G_t + (1 − α) diag(G_t)</c> and <c>W = (Σt W_t G̃_t)(Σt G̃_t)⁻¹</c>, the minimiser of
/// <c>Σt ‖X̃_t Wᵀ − X̃_t W_tᵀ‖²</c>. Solved, not inverted: <c>(Σt G̃_t) Wᵀ = Σt G̃_t W_tᵀ</c> by Cholesky (float64),
/// with a ridge of 1e-8·mean(diag) added only when the sum is singular.
/// </summary>
internal static class RegMeanSolver
{
    /// <summary>Merges one layer.</summary>
    /// <param name="output">Merged weight (Out, In).</param>
    /// <param name="weights">Each model's weight (Out, In).</param>
    /// <param name="grams">Each model's Gram matrix (In, In).</param>
    /// <param name="outDim">Out.</param>
    /// <param name="inDim">In.</param>
    /// <param name="alpha">Off-diagonal factor α in [0, 1] (1: plain Grams; 0: diagonal only).</param>
    public static void Merge(Span<float> output, IReadOnlyList<float[]> weights, IReadOnlyList<float[]> grams, int outDim, int inDim, double alpha)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(grams);
        if (weights.Count != grams.Count || weights.Count == 0) throw new ArgumentException($"{weights.Count} weights and {grams.Count} Gram matrices; expected the same positive number.");
        int nn = inDim * inDim, oi = outDim * inDim;
        var sum = new float[nn];                                          // (In, In) Σ G̃_t
        var rhs = new float[oi];                                          // (In, Out) Σ G̃_t W_tᵀ
        var shrunk = new float[nn];                                       // (In, In) G̃_t
        float a = (float)alpha, diagKeep = (float)(1 - alpha);
        for (int t = 0; t < weights.Count; t++)
        {
            if (grams[t].Length != nn || weights[t].Length != oi) throw new ArgumentException($"model {t}: weight of {weights[t].Length} and Gram of {grams[t].Length} values; expected {oi} and {nn}.");
            TensorPrimitives.Multiply(grams[t], a, shrunk);
            for (int i = 0; i < inDim; i++) shrunk[i * inDim + i] += diagKeep * grams[t][i * inDim + i];
            TensorPrimitives.Add(sum, shrunk, sum);
            // rhs (In, Out) += G̃_t (In, In) · W_tᵀ (In, Out)
            Nn.Layers.MatMul.Multiply(false, true, inDim, outDim, inDim, 1f, shrunk, inDim, weights[t], inDim, 1f, rhs, outDim);
        }
        var solution = new float[oi];                                     // (In, Out) Wᵀ
        try { Cholesky.Solve(sum, inDim, rhs, outDim, solution); }
        catch (ArgumentException)
        {
            double meanDiag = 0;
            for (int i = 0; i < inDim; i++) meanDiag += sum[i * inDim + i];
            float ridge = (float)Math.Max(1e-8 * meanDiag / inDim, 1e-12);
            for (int i = 0; i < inDim; i++) sum[i * inDim + i] += ridge;
            Cholesky.Solve(sum, inDim, rhs, outDim, solution);
        }
        for (int o = 0; o < outDim; o++)
            for (int i = 0; i < inDim; i++) output[o * inDim + i] = solution[i * outDim + o];
    }
}
