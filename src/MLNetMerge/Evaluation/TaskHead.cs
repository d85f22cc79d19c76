using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;

namespace MLNetMerge.Evaluation;

/// <summary>
/// A task's linear classification head (<c>classifier.weight</c> (K, E), <c>classifier.bias</c> (K)):
/// <c>logits = f(x)·Wᵀ + b</c>, probabilities = softmax(logits).
/// </summary>
/// <param name="Weight">Weight (K, E), PyTorch layout.</param>
/// <param name="Bias">Bias (K).</param>
/// <param name="ClassCount">K.</param>
/// <param name="InputSize">E.</param>
public sealed record TaskHead(float[] Weight, float[] Bias, int ClassCount, int InputSize)
{
    /// <summary>Tensor name of the weight in a checkpoint.</summary>
    public const string WeightName = "classifier.weight";

    /// <summary>Tensor name of the bias in a checkpoint.</summary>
    public const string BiasName = "classifier.bias";

    /// <summary>Class probabilities (N, K) for embeddings (N, E).</summary>
    public float[] Probabilities(ReadOnlySpan<float> embeddings, int n)
    {
        var logits = new float[n * ClassCount];                          // (N, K)
        Linear.Forward<float>(logits, embeddings, Weight, Bias, n, InputSize, ClassCount);
        var logp = new float[n * ClassCount];                            // (N, K)
        LogSoftmax.Rows<float>(logp, logits, n, ClassCount);
        for (int i = 0; i < logp.Length; i++) logp[i] = MathF.Exp(logp[i]);
        return logp;
    }
}
