using MLNetMerge.Encoders;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;

namespace MLNetMerge.Alignment;

/// <summary>
/// One example (batch 1) through the encoder and a task's head, and back: the pieces the per-example gradient statistics
/// share (<see cref="DiagonalFisher"/>, <see cref="MeanAbsoluteGradient"/>).
/// </summary>
internal static class HeadGradient
{
    /// <summary>
    /// Forward pass of <paramref name="x"/>: <c>z = H e + c</c> into <paramref name="logits"/> (1, K) and log softmax(z) into
    /// <paramref name="logp"/> (1, K); returns the embedding e (1, E), valid until the encoder's next pass.
    /// </summary>
    public static ReadOnlySpan<float> Forward(IDenseEncoder model, TaskHead head, ReadOnlySpan<float> x, Span<float> logits, Span<float> logp)
    {
        int k = head.ClassCount, e = head.InputSize;
        model.Forward(x, 1);
        var emb = model.Embedding(1);                                     // (1, E)
        Linear.Forward<float>(logits, emb, head.Weight, head.Bias, 1, e, k);
        LogSoftmax.Rows<float>(logp, logits, 1, k);
        return emb;
    }

    /// <summary>
    /// Backward pass from <paramref name="dLogits"/> (1, K), the loss's gradient at the logits, through the head (into
    /// <paramref name="dEmb"/> (1, E)) and the encoder: the encoder's gradients, zeroed first, in
    /// <c>model.Parameters.Gradients</c> (P).
    /// </summary>
    public static float[] Backward(IDenseEncoder model, TaskHead head, ReadOnlySpan<float> emb, ReadOnlySpan<float> dLogits, float[] dEmb)
    {
        Array.Clear(dEmb);
        Linear.Backward<float>(dEmb, default, default, dLogits, emb, head.Weight, 1, head.InputSize, head.ClassCount);
        model.Parameters.ZeroGrad();
        model.BackwardFromEmbedding(dEmb, 1);
        return model.Parameters.Gradients;
    }
}
