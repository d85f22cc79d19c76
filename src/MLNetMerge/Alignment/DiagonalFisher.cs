using System.Numerics.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Encoders;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>How the diagonal Fisher takes the expectation over labels.</summary>
internal enum FisherLabelSource
{
    /// <summary>Exactly: <c>Σ_y p(y|x) g_y²</c>, one backward pass per class (default).</summary>
    Expected,
    /// <summary>One label drawn from the model's own <c>p(y|x)</c> per example, one backward pass.</summary>
    Sampled,
}

/// <summary>
/// The diagonal empirical-model Fisher of a task's model (encoder + head) on unlabeled inputs (Matena &amp; Raffel 2022):
/// <c>F = (1/N) Σ_x E_{y ~ p(y|x)} [(∂ log p(y|x)/∂θ)²]</c> over the encoder's parameters θ, with labels from the model's
/// own predictive distribution. Per example (batch 1): one forward pass, then per label y the gradient of
/// <c>log p(y|x)</c> (<c>∂/∂z = onehot(y) − p</c> at the logits) back through the head and the encoder; the squared
/// gradient, weighted by <c>p(y|x)</c> (or 1 for a sampled label), is added into F.
/// </summary>
internal static class DiagonalFisher
{
    /// <summary>Computes F (P) of the encoder's current weights with <paramref name="head"/> on <paramref name="data"/>.</summary>
    /// <param name="model">The encoder, holding the task's fine-tuned weights.</param>
    /// <param name="head">The task's head.</param>
    /// <param name="data">Unlabeled inputs.</param>
    /// <param name="labels">Exact expectation or one sampled label per example.</param>
    /// <param name="seed">The run's seed; sampled labels come from the stream <c>("fisher.sampled_labels", task)</c>.</param>
    /// <param name="task">Index of the task (its own stream of sampled labels).</param>
    /// <param name="cancellationToken">Checked per example.</param>
    public static float[] Compute(IDenseEncoder model, TaskHead head, TaskDataset data, FisherLabelSource labels, ulong seed, int task = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(data);
        int k = head.ClassCount, e = head.InputSize, f = data.FeatureLength;
        var arena = model.Parameters;
        var fisher = new float[arena.Layout.TotalLength];                 // (P)
        var logits = new float[k];                                        // (1, K)
        var logp = new float[k];                                          // (1, K)
        var dLogits = new float[k];                                       // (1, K)
        var dEmb = new float[e];                                          // (1, E)
        var rng = RandomStreams.Create(seed, "fisher.sampled_labels", task);
        for (int i = 0; i < data.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var emb = HeadGradient.Forward(model, head, data.Features.AsSpan(i * f, f), logits, logp); // (1, E)
            if (labels == FisherLabelSource.Sampled)
            {
                double u = rng.NextDouble(), c = 0;
                int y = k - 1;
                for (int j = 0; j < k; j++) { c += Math.Exp(logp[j]); if (u < c) { y = j; break; } }
                AddSquaredGradient(model, head, emb, logp, y, 1f, dLogits, dEmb, fisher);
            }
            else
                for (int y = 0; y < k; y++)
                {
                    float py = MathF.Exp(logp[y]);
                    if (py > 0f) AddSquaredGradient(model, head, emb, logp, y, py, dLogits, dEmb, fisher);
                }
        }
        TensorPrimitives.Multiply(fisher, 1f / data.Count, fisher);
        return fisher;
    }

    /// <summary><c>fisher += weight · (∂ log p(y|x)/∂θ)²</c> for the latest single-example forward pass.</summary>
    private static void AddSquaredGradient(IDenseEncoder model, TaskHead head, ReadOnlySpan<float> emb, ReadOnlySpan<float> logp, int y, float weight,
        float[] dLogits, float[] dEmb, float[] fisher)
    {
        for (int j = 0; j < head.ClassCount; j++) dLogits[j] = (j == y ? 1f : 0f) - MathF.Exp(logp[j]);
        var g = HeadGradient.Backward(model, head, emb, dLogits, dEmb);   // (P)
        for (int i = 0; i < g.Length; i++) fisher[i] += weight * g[i] * g[i];
    }

    /// <summary>
    /// Fisher-weighted average, element-wise: <c>θ = Σt F̂t θt / Σt F̂t</c> with <c>F̂t = max(Ft, floor)</c>.
    /// </summary>
    /// <param name="output">Merged values (P).</param>
    /// <param name="thetas">Each model's values (P).</param>
    /// <param name="fishers">Each model's Fisher (P).</param>
    /// <param name="floor">Lower bound on every Fisher value (1e-6 by default in <see cref="FisherMerging"/>).</param>
    public static void Merge(Span<float> output, IReadOnlyList<float[]> thetas, IReadOnlyList<float[]> fishers, float floor)
    {
        ArgumentNullException.ThrowIfNull(thetas);
        ArgumentNullException.ThrowIfNull(fishers);
        if (thetas.Count != fishers.Count || thetas.Count == 0) throw new ArgumentException($"{thetas.Count} models and {fishers.Count} Fishers; expected the same positive number.");
        for (int i = 0; i < output.Length; i++)
        {
            double num = 0, den = 0;
            for (int t = 0; t < thetas.Count; t++)
            {
                double w = Math.Max(fishers[t][i], floor);
                num += w * thetas[t][i];
                den += w;
            }
            output[i] = den > 0 ? (float)(num / den) : (float)(thetas.Average(th => (double)th[i]));
        }
    }
}
