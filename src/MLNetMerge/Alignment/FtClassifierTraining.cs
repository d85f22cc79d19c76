using System.Numerics;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Encoders;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>Settings of FT-Classifier head training (Kong et al. 2024, arXiv:2412.13526: Adam 5e-4, 5 epochs, batch 1).</summary>
/// <param name="Epochs">Passes over the few-shot sample.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="Batch">Examples per step (1 in the paper).</param>
internal sealed record FtClassifierSettings(int Epochs = 5, double LearningRate = 5e-4, int Batch = 1);

/// <summary>
/// FT-Classifier's head training on frozen embeddings (docs/methods/ft-classifier.md): a new head <c>(W, b)</c> initialised from the
/// fine-tuned head is fitted by Adam to minimise
/// <c>L = (1/B) Σ_i KL( softmax(t_i) ‖ softmax(W z_i + b) )</c>
/// where <c>t_i = W_t f_t(x_i) + b_t</c> are the fine-tuned model's logits (teacher) and <c>z_i = f_m(x_i)</c> the merged
/// encoder's embeddings (student). With <c>s_i = W z_i + b</c>, <c>q_i = softmax(s_i)</c>, <c>p_i = softmax(t_i)</c>:
/// <c>∂L/∂s_i = (q_i − p_i)/B</c>, <c>∂L/∂W = Σ_i ∂L/∂s_i z_iᵀ</c>, <c>∂L/∂b = Σ_i ∂L/∂s_i</c>. Labels never enter.
/// </summary>
internal static class FtClassifierTraining
{
    /// <summary>Loss of one batch; adds its gradients into <paramref name="dWeight"/> and <paramref name="dBias"/>.</summary>
    /// <param name="dWeight">Gradient (K, E), added into.</param>
    /// <param name="dBias">Gradient (K), added into.</param>
    /// <param name="z">Student embeddings (B, E).</param>
    /// <param name="teacherLogits">Teacher logits (B, K).</param>
    /// <param name="weight">Head weight (K, E).</param>
    /// <param name="bias">Head bias (K).</param>
    /// <param name="b">B.</param>
    /// <param name="e">E.</param>
    /// <param name="k">K.</param>
    public static double LossAndGradient<T>(Span<T> dWeight, Span<T> dBias, ReadOnlySpan<T> z, ReadOnlySpan<T> teacherLogits,
        ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, int b, int e, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var logits = new T[b * k];                                        // (B, K) student logits s
        var logP = new T[b * k];                                          // (B, K) log softmax(t)
        var logQ = new T[b * k];                                          // (B, K) log softmax(s)
        var dLogits = new T[b * k];                                       // (B, K) ∂L/∂s
        Linear.Forward<T>(logits, z[..(b * e)], weight, bias, b, e, k);
        T loss = KlDivergence.Forward<T>(logP, logQ, teacherLogits[..(b * k)], logits, b, k);
        KlDivergence.Backward<T>(Span<T>.Empty, dLogits, logP, logQ, b, k, T.One);
        Linear.Backward<T>(Span<T>.Empty, dWeight, dBias, dLogits, z[..(b * e)], weight, b, e, k);
        return double.CreateTruncating(loss);
    }

    /// <summary>Trains a head from <paramref name="init"/> on (student embedding, teacher logits) pairs.</summary>
    /// <param name="init">The fine-tuned head (copied, not changed).</param>
    /// <param name="z">Student embeddings (N, E).</param>
    /// <param name="teacherLogits">Teacher logits (N, K).</param>
    /// <param name="n">N (≥ 1).</param>
    /// <param name="settings">Epochs, learning rate, batch.</param>
    /// <param name="orderKey">Key of the stream of per-epoch shuffles (<see cref="RandomStreams.Key"/>).</param>
    /// <param name="onStep">Called after each step with (step, total steps, running mean loss of the epoch).</param>
    /// <param name="cancellationToken">Checked every step.</param>
    public static TaskHead Train(TaskHead init, ReadOnlySpan<float> z, ReadOnlySpan<float> teacherLogits, int n, FtClassifierSettings settings,
        ulong orderKey, Action<int, int, double>? onStep = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(settings);
        int e = init.InputSize, k = init.ClassCount;
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), "FT-Classifier needs at least one example.");
        if (z.Length < n * e || teacherLogits.Length < n * k) throw new ArgumentException($"expected {n}×{e} embeddings and {n}×{k} teacher logits.");
        var theta = new float[k * e + k];                                 // (K·E + K) [W | b]
        init.Weight.CopyTo(theta, 0);
        init.Bias.CopyTo(theta, k * e);
        var grad = new float[theta.Length];                               // (K·E + K)
        var adam = new Adam(theta.Length, new AdamOptions { LearningRate = settings.LearningRate });
        int batch = Math.Max(1, Math.Min(settings.Batch, n));
        int perEpoch = (n + batch - 1) / batch, total = perEpoch * settings.Epochs, step = 0;
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SeededRandom(orderKey);
        var zb = new float[batch * e];                                    // (B, E)
        var tb = new float[batch * k];                                    // (B, K)
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            double sum = 0;
            for (int s = 0; s < perEpoch; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int start = s * batch, b = Math.Min(batch, n - start);
                for (int i = 0; i < b; i++)
                {
                    z.Slice(order[start + i] * e, e).CopyTo(zb.AsSpan(i * e, e));
                    teacherLogits.Slice(order[start + i] * k, k).CopyTo(tb.AsSpan(i * k, k));
                }
                Array.Clear(grad);
                var w = theta.AsSpan(0, k * e);
                var bias = theta.AsSpan(k * e, k);
                sum += LossAndGradient(grad.AsSpan(0, k * e), grad.AsSpan(k * e, k), zb, tb, w, bias, b, e, k);
                adam.Step(theta, grad);
                onStep?.Invoke(++step, total, sum / (s + 1));
            }
        }
        return new TaskHead(theta[..(k * e)], theta[(k * e)..], k, e);
    }
}
