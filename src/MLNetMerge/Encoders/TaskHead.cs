using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;

namespace MLNetMerge.Encoders;

/// <summary>
/// A task's linear classification head (<c>classifier.weight</c> (K, E), <c>classifier.bias</c> (K)):
/// <c>logits = f(x)·Wᵀ + b</c>, probabilities = softmax(logits).
/// </summary>
/// <param name="Weight">Weight (K, E), PyTorch layout.</param>
/// <param name="Bias">Bias (K).</param>
/// <param name="ClassCount">K.</param>
/// <param name="InputSize">E.</param>
internal sealed record TaskHead(float[] Weight, float[] Bias, int ClassCount, int InputSize)
{
    /// <summary>Tensor name of the weight in a checkpoint.</summary>
    public const string WeightName = "classifier.weight";

    /// <summary>Tensor name of the bias in a checkpoint.</summary>
    public const string BiasName = "classifier.bias";

    /// <summary>Reads <c>classifier.weight</c> (K, E) and <c>classifier.bias</c> (K) from a checkpoint.</summary>
    /// <param name="reader">The task's checkpoint.</param>
    /// <param name="width">E, the encoder's embedding width.</param>
    /// <exception cref="CheckpointFormatException">Missing tensors, or shapes that do not fit a K-class head on E.</exception>
    public static TaskHead Read(Checkpoints.ICheckpointReader reader, int width)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (!reader.TryGetTensor(WeightName, out var w) || !reader.TryGetTensor(BiasName, out var b))
            throw new CheckpointFormatException(reader.Path, WeightName, "is missing; the task needs classifier.weight and classifier.bias.");
        int classes = (int)b.ElementCount;
        if (w.Shape.Length != 2 || w.Shape[1] != width || w.Shape[0] != classes || b.Shape.Length != 1)
            throw new CheckpointFormatException(reader.Path, WeightName, $"has shape {w.ShapeText} with a bias of shape {b.ShapeText}; expected (K, {width}) and (K) for the {width}-wide embedding.");
        var wv = new float[w.ElementCount]; var bv = new float[b.ElementCount];
        reader.ReadFloat32(w, wv); reader.ReadFloat32(b, bv);
        return new TaskHead(wv, bv, classes, width);
    }

    /// <summary>Logits (N, K) for embeddings (N, E).</summary>
    public float[] Logits(ReadOnlySpan<float> embeddings, int n)
    {
        var logits = new float[n * ClassCount];                          // (N, K)
        Linear.Forward<float>(logits, embeddings, Weight, Bias, n, InputSize, ClassCount);
        return logits;
    }

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
