using MLNetMerge.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 inference-path linear layer with its neighbours folded into the GEMM's write-back (<see cref="GemmEpilogue"/>):
/// <code>
/// y   = x · Wᵀ + b + r          (b and the residual r optional)
/// act = f(y)                    (optional: quick GELU fused; GELU-erf and the others run after the product)
/// </code>
/// The same element-wise operations in the same order as <see cref="Linear.Forward{T}"/>, then
/// <see cref="Residual.Forward{T}"/>, then <see cref="Activation.Forward{T}"/> — so the same bits wherever a row block's
/// width is a multiple of 8 (always at the engine's widths: the activation kernels' vector loops cover whole 8-lane
/// vectors, and only a tail of a row shorter than 8 would go through their scalar remainder, which rounds differently
/// by ~1 ulp). GELU-erf is not fused: its kernel takes e^(−x²/2) from TensorPrimitives over 1024-element chunks, whose
/// tail rounding depends on where a row falls in a chunk, and the training forward must keep the bits the committed
/// zoos were built with; one separate pass costs under 1 % of a forward. Each row panel of y is biased, residual-added and activated while still in L1 after its last k-block,
/// instead of three more passes over (N, Out) in memory. Backward is <see cref="Linear.Backward{T}"/> and
/// <see cref="Activation.Backward{T}"/> on the kept output y (the pre-activation), as before. Inside a
/// <see cref="FrozenWeights"/> scope the weight is packed for the GEMM once and read from its panels on every later call.
/// </summary>
internal static class FusedLinear
{
    /// <summary>Forward pass.</summary>
    /// <param name="y">Output (N, Out): the pre-activation when <paramref name="activation"/> is given.</param>
    /// <param name="act">Activation output (N, Out), or empty without an activation; may not alias <paramref name="y"/>.</param>
    /// <param name="x">Input (N, In).</param>
    /// <param name="weight">Weight (Out, In).</param>
    /// <param name="bias">Bias (Out), or empty.</param>
    /// <param name="n">Rows (batch × tokens).</param>
    /// <param name="inDim">Input features.</param>
    /// <param name="outDim">Output features.</param>
    /// <param name="activation">Activation producing <paramref name="act"/>, or null.</param>
    /// <param name="residual">Residual (N, Out) added after the bias, or empty; may not alias <paramref name="y"/>.</param>
    public static unsafe void Forward(Span<float> y, Span<float> act, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int n, int inDim, int outDim, ActivationKind? activation = null, ReadOnlySpan<float> residual = default)
    {
        int size = n * outDim;
        if (y.Length < size) throw new ArgumentException($"fused linear: output has {y.Length} elements, ({n}, {outDim}) needs {size}.");
        if (!bias.IsEmpty && bias.Length < outDim) throw new ArgumentException($"fused linear: bias has {bias.Length} elements, expected {outDim}.");
        if (!residual.IsEmpty && residual.Length < size) throw new ArgumentException($"fused linear: residual has {residual.Length} elements, ({n}, {outDim}) needs {size}.");
        if (activation is not null && act.Length < size) throw new ArgumentException($"fused linear: activation output has {act.Length} elements, ({n}, {outDim}) needs {size}.");
        if (LinearInputTap.Active is { } tap) tap.Observe(x[..(n * inDim)], weight[..(outDim * inDim)], n, inDim, outDim);
        delegate*<float*, float*, int, void> f = activation switch
        {
            ActivationKind.QuickGelu => &QuickGeluRow,
            _ => null,
        };
        fixed (float* pb = bias, pr = residual, pa = act)
        {
            var epilogue = new GemmEpilogue
            {
                Bias = bias.IsEmpty ? null : pb,
                Residual = residual.IsEmpty ? null : pr, LdResidual = outDim,
                Activation = f, Output = f == null ? null : pa, LdOutput = outDim,
            };
            Gemm.MultiplyCore(false, true, n, outDim, inDim, 1f, x, inDim, weight, inDim, 0f, y, outDim,
                Environment.ProcessorCount, Gemm.BestPath, epilogue, FrozenWeights.PackedTransposed(weight, outDim, inDim, Gemm.BestPath));
        }
        if (activation is { } kind && f == null) Activation.Forward<float>(kind, act[..size], y[..size]);
    }

    private static unsafe void QuickGeluRow(float* dst, float* src, int count) =>
        VectorActivations.QuickGeluForwardRange(new Span<float>(dst, count), new ReadOnlySpan<float>(src, count));
}
