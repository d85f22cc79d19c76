using MLNetMerge.Nn;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>How many merge coefficients AdaMerging learns.</summary>
internal enum CoefficientScope
{
    /// <summary>One coefficient per task, shared by every tensor: <c>θ = θ0 + Σt λt τt</c>.</summary>
    Task,
    /// <summary>One coefficient per task and parameter tensor: <c>θ^l = θ0^l + Σt λt^l τt^l</c>.</summary>
    Layer,
}

/// <summary>
/// AdaMerging's objective and its exact coefficient gradients over a <see cref="DifferentiableMerge"/>:
/// <c>L(λ) = Σt H(softmax(Wt f_θ(λ)(x_t) + bt))</c>, the mean Shannon entropy of each task's batch through its own head,
/// summed over tasks. One forward and backward pass per task fills <c>∂L/∂θ</c>; then
/// <c>∂L/∂λt^l = ⟨∂L/∂θ^l, τt^l⟩·c'(λt^l)</c> (layer-wise), and task-wise <c>∂L/∂λt = Σ_l ∂L/∂λt^l</c> because the one
/// λt is used by every tensor. Adam (PyTorch's update) moves the coefficients.
/// </summary>
internal sealed class EntropyCoefficientLearner
{
    private readonly IDenseEncoder _model;
    private readonly DifferentiableMerge _merge;
    private readonly IReadOnlyList<TaskHead> _heads;
    private readonly Adam _adam;
    private float[] _logits = [], _logp = [], _dLogits = [], _dEmbedding = [];

    /// <summary>Creates the learner.</summary>
    /// <param name="model">The encoder whose arena <paramref name="merge"/> writes into.</param>
    /// <param name="merge">The coefficients over base and task vectors.</param>
    /// <param name="granularity">Task-wise or layer-wise coefficients.</param>
    /// <param name="heads">Each task's head, in the merge's task order.</param>
    /// <param name="learningRate">Adam's learning rate (1e-3 in AdaMerging).</param>
    public EntropyCoefficientLearner(IDenseEncoder model, DifferentiableMerge merge, CoefficientScope granularity, IReadOnlyList<TaskHead> heads, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(merge);
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count != merge.TaskCount) throw new ArgumentException($"{heads.Count} heads for {merge.TaskCount} task vectors.", nameof(heads));
        foreach (var h in heads)
            if (h.InputSize != model.EmbeddingSize) throw new ArgumentException($"a head reads {h.InputSize} features; the encoder gives {model.EmbeddingSize}.", nameof(heads));
        _model = model;
        _merge = merge;
        _heads = heads;
        Granularity = granularity;
        Coefficients = granularity == CoefficientScope.Layer ? merge.Coefficients
            : Enumerable.Range(0, merge.TaskCount).Select(t => merge.Coefficients[t * merge.TensorCount]).ToArray();
        Gradients = new float[Coefficients.Length];
        _adam = new Adam(Coefficients.Length, new AdamOptions { LearningRate = learningRate });
    }

    /// <summary>Task-wise or layer-wise.</summary>
    public CoefficientScope Granularity { get; }

    /// <summary>The trainable coefficients: (T) task-wise, (T, L) layer-wise (the merge's own array). Edit in place.</summary>
    public float[] Coefficients { get; }

    /// <summary>∂L/∂coefficients of the latest <see cref="ComputeGradients"/>, same shape as <see cref="Coefficients"/>.</summary>
    public float[] Gradients { get; }

    /// <summary>Writes θ(λ) into the encoder's weights (task-wise coefficients are copied to every tensor first).</summary>
    public void Materialize()
    {
        if (Granularity == CoefficientScope.Task)
            for (int t = 0; t < _merge.TaskCount; t++) Array.Fill(_merge.Coefficients, Coefficients[t], t * _merge.TensorCount, _merge.TensorCount);
        _merge.Materialize();
    }

    /// <summary>The objective at the current coefficients (no gradients).</summary>
    /// <param name="batches">Per task, its batch (B_t, F).</param>
    /// <param name="sizes">Per task, B_t.</param>
    public double Loss(IReadOnlyList<float[]> batches, IReadOnlyList<int> sizes)
    {
        Materialize();
        double loss = 0;
        for (int t = 0; t < _heads.Count; t++) loss += TaskEntropy(t, batches[t], sizes[t], backward: false);
        return loss;
    }

    /// <summary>The objective and its coefficient gradients (into <see cref="Gradients"/>).</summary>
    /// <param name="batches">Per task, its batch (B_t, F).</param>
    /// <param name="sizes">Per task, B_t.</param>
    public double ComputeGradients(IReadOnlyList<float[]> batches, IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(sizes);
        Materialize();
        _model.Parameters.ZeroGrad();
        double loss = 0;
        for (int t = 0; t < _heads.Count; t++) loss += TaskEntropy(t, batches[t], sizes[t], backward: true);
        _merge.ZeroCoefficientGradients();
        _merge.AccumulateCoefficientGradients();
        if (Granularity == CoefficientScope.Layer) _merge.CoefficientGradients.CopyTo(Gradients, 0);
        else
            for (int t = 0; t < _merge.TaskCount; t++)
            {
                double g = 0;
                for (int l = 0; l < _merge.TensorCount; l++) g += _merge.CoefficientGradients[t * _merge.TensorCount + l];
                Gradients[t] = (float)g;
            }
        return loss;
    }

    /// <summary>One Adam step on the objective; returns the loss before the step.</summary>
    public double Step(IReadOnlyList<float[]> batches, IReadOnlyList<int> sizes)
    {
        double loss = ComputeGradients(batches, sizes);
        _adam.Step(Coefficients, Gradients);
        return loss;
    }

    /// <summary>Mean entropy of one task's batch; with <paramref name="backward"/> adds its gradient into the arena.</summary>
    private double TaskEntropy(int task, float[] batch, int b, bool backward)
    {
        var head = _heads[task];
        int k = head.ClassCount, e = head.InputSize;
        Ensure(ref _logits, b * k); Ensure(ref _logp, b * k); Ensure(ref _dLogits, b * k); Ensure(ref _dEmbedding, b * e);
        _model.Forward(batch, b);
        var emb = _model.Embedding(b);                                    // (B, E)
        var logits = _logits.AsSpan(0, b * k);                            // (B, K)
        var logp = _logp.AsSpan(0, b * k);                                // (B, K)
        Linear.Forward<float>(logits, emb, head.Weight, head.Bias, b, e, k);
        double h = Entropy.Forward<float>(logp, logits, b, k);
        if (!backward) return h;
        var dLogits = _dLogits.AsSpan(0, b * k); dLogits.Clear();         // (B, K)
        Entropy.Backward<float>(dLogits, logp, b, k, 1f);
        var dEmb = _dEmbedding.AsSpan(0, b * e); dEmb.Clear();            // (B, E)
        Linear.Backward<float>(dEmb, default, default, dLogits, emb, head.Weight, b, e, k);
        _model.BackwardFromEmbedding(dEmb, b);
        return h;
    }

    private static void Ensure(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
