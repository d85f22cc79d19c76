using System.Numerics.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Nn;

namespace MLNetMerge.Alignment;

/// <summary>
/// The mean absolute gradient of a task's cross-entropy loss over the encoder's parameters θ, one example at a time:
/// <c>G = (1/N) Σ_x |∂ CE(head(encoder(x)), y_x) / ∂θ|</c> — TATR's estimate of where a task's loss is sensitive at the
/// encoder's current weights (<see cref="TrustRegionMerging"/>). Per example (batch 1): one forward pass, the loss's
/// gradient at the logits <c>p − onehot(y)</c> back through the head and the encoder, its absolute value added into G.
/// </summary>
internal static class MeanAbsoluteGradient
{
    /// <summary>
    /// Predicted labels of <paramref name="data"/> under the encoder's current weights and <paramref name="head"/>: the
    /// argmax of the logits (the lowest class on a tie).
    /// </summary>
    public static int[] Predict(IDenseEncoder model, TaskHead head, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(data);
        var logits = new float[head.ClassCount];                          // (1, K)
        var logp = new float[head.ClassCount];                            // (1, K)
        var labels = new int[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HeadGradient.Forward(model, head, data.Example(i), logits, logp);
            labels[i] = TensorPrimitives.IndexOfMax(logits);
        }
        return labels;
    }

    /// <summary>Computes G (P) at the encoder's current weights with <paramref name="head"/> on <paramref name="data"/> labeled <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">Not one label per example, or a label outside the head's classes.</exception>
    public static float[] Compute(IDenseEncoder model, TaskHead head, TaskDataset data, IReadOnlyList<int> labels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != data.Count) throw new ArgumentException($"{labels.Count} labels for {data.Count} examples of '{data.Name}'.", nameof(labels));
        int k = head.ClassCount, e = head.InputSize;
        var sum = new float[model.Parameters.Layout.TotalLength];         // (P)
        var logits = new float[k];                                        // (1, K)
        var logp = new float[k];                                          // (1, K)
        var dLogits = new float[k];                                       // (1, K)
        var dEmb = new float[e];                                          // (1, E)
        var abs = new float[sum.Length];                                  // (P)
        for (int i = 0; i < data.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int y = labels[i];
            if ((uint)y >= (uint)k) throw new ArgumentException($"label {y} of example {i} of '{data.Name}' is outside the head's {k} classes.", nameof(labels));
            var emb = HeadGradient.Forward(model, head, data.Example(i), logits, logp); // (1, E)
            for (int j = 0; j < k; j++) dLogits[j] = MathF.Exp(logp[j]) - (j == y ? 1f : 0f);
            TensorPrimitives.Abs(HeadGradient.Backward(model, head, emb, dLogits, dEmb), abs);
            TensorPrimitives.Add(sum, abs, sum);
        }
        if (data.Count > 0) TensorPrimitives.Multiply(sum, 1f / data.Count, sum);
        return sum;
    }
}
