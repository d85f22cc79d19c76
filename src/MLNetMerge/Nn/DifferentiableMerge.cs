using System.Numerics.Tensors;

namespace MLNetMerge.Nn;

/// <summary>
/// Merged weights whose per-task, per-tensor coefficients are trainable (AdaMerging-style):
/// <c>θ^l = θ0^l + Σ_t c(λ_t^l) τ_t^l</c>, with <c>c</c> the identity or a clamp to [0, 1]. After a backward pass that
/// filled the model's parameter gradients, one pass over the task vectors gives every coefficient gradient:
/// <c>∂L/∂λ_t^l = ⟨∂L/∂θ^l, τ_t^l⟩ · c'(λ_t^l)</c> (clamp' = 1 on [0, 1], 0 outside, as torch.clamp's backward).
/// Works for any task vectors laid out like the arena: plain fine-tuned differences, TIES-trimmed, CART low-rank, ….
/// </summary>
internal sealed class DifferentiableMerge
{
    private readonly ParameterArena _model;
    private readonly float[] _base;          // (P)
    private readonly float[][] _tasks;       // T × (P)

    /// <summary>Creates the merge; coefficients start at <paramref name="initialCoefficient"/> (0.3 in AdaMerging).</summary>
    /// <param name="model">The model's arena: <see cref="Materialize"/> writes θ into its values; its gradients are read.</param>
    /// <param name="baseValues">θ0 (P), in the arena's layout.</param>
    /// <param name="taskVectors">τ_t (T × P), in the arena's layout.</param>
    /// <param name="clampToUnitInterval">Clamp coefficients to [0, 1] in the forward pass.</param>
    /// <param name="initialCoefficient">Starting value of every λ.</param>
    public DifferentiableMerge(ParameterArena model, float[] baseValues, IReadOnlyList<float[]> taskVectors, bool clampToUnitInterval, float initialCoefficient = 0.3f)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(baseValues);
        ArgumentNullException.ThrowIfNull(taskVectors);
        int p = model.Layout.TotalLength;
        if (baseValues.Length != p) throw new ArgumentException($"base has {baseValues.Length} values; the architecture has {p}.", nameof(baseValues));
        for (int t = 0; t < taskVectors.Count; t++)
            if (taskVectors[t].Length != p) throw new ArgumentException($"task vector {t} has {taskVectors[t].Length} values; the architecture has {p}.", nameof(taskVectors));
        _model = model;
        _base = baseValues;
        _tasks = [.. taskVectors];
        Clamp = clampToUnitInterval;
        TensorCount = model.Layout.Entries.Count;
        Coefficients = new float[_tasks.Length * TensorCount];
        Array.Fill(Coefficients, initialCoefficient);
        CoefficientGradients = new float[Coefficients.Length];
    }

    /// <summary>
    /// Reads θ0 and the task vectors <c>τ_t = θ_t − θ0</c> in the arena's layout by loading each checkpoint through the
    /// architecture's own loader (so prefixes, ignored buffers and dtype conversion are handled as for inference).
    /// The arena is left holding θ0.
    /// </summary>
    /// <param name="arena">The model's arena.</param>
    /// <param name="load">The architecture's loader into that arena (e.g. <c>model.Load</c>).</param>
    /// <param name="baseCheckpoint">θ0.</param>
    /// <param name="taskCheckpoints">The fine-tuned models θ_t.</param>
    /// <exception cref="ArchitectureMismatchException">A checkpoint does not fit the architecture.</exception>
    public static (float[] Base, float[][] TaskVectors) ReadTaskVectors(ParameterArena arena, Action<Checkpoints.ICheckpointReader> load,
        Checkpoints.ICheckpointReader baseCheckpoint, IReadOnlyList<Checkpoints.ICheckpointReader> taskCheckpoints)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(taskCheckpoints);
        var tasks = new float[taskCheckpoints.Count][];
        for (int t = 0; t < tasks.Length; t++)
        {
            load(taskCheckpoints[t]);
            tasks[t] = (float[])arena.Values.Clone();
        }
        load(baseCheckpoint);
        var theta0 = (float[])arena.Values.Clone();
        foreach (var tau in tasks) TensorPrimitives.Subtract(tau, theta0, tau);
        return (theta0, tasks);
    }

    /// <summary>Number of task vectors T.</summary>
    public int TaskCount => _tasks.Length;

    /// <summary>Number of parameter tensors L (one coefficient per task and tensor).</summary>
    public int TensorCount { get; }

    /// <summary>Whether coefficients are clamped to [0, 1] in the forward pass.</summary>
    public bool Clamp { get; }

    /// <summary>λ (T, L), row-major: <c>λ_t^l = Coefficients[t·L + l]</c>; an optimiser updates it in place.</summary>
    public float[] Coefficients { get; }

    /// <summary>∂L/∂λ (T, L), accumulated by <see cref="AccumulateCoefficientGradients"/>.</summary>
    public float[] CoefficientGradients { get; }

    private float Effective(float lambda) => Clamp ? Math.Clamp(lambda, 0f, 1f) : lambda;

    /// <summary>Writes <c>θ = θ0 + Σ_t c(λ_t) τ_t</c> into the model's parameter values.</summary>
    public void Materialize()
    {
        var entries = _model.Layout.Entries;
        for (int l = 0; l < entries.Count; l++)
        {
            var e = entries[l];
            var theta = _model.Value(l);                                  // (|θ^l|)
            _base.AsSpan(e.Offset, e.Length).CopyTo(theta);
            for (int t = 0; t < _tasks.Length; t++)
            {
                float lambda = Effective(Coefficients[t * TensorCount + l]);
                if (lambda != 0f) TensorPrimitives.MultiplyAdd(_tasks[t].AsSpan(e.Offset, e.Length), lambda, theta, theta);
            }
        }
    }

    /// <summary>Adds <c>⟨∂L/∂θ^l, τ_t^l⟩ · c'(λ_t^l)</c> into <see cref="CoefficientGradients"/> from the model's gradients.</summary>
    public void AccumulateCoefficientGradients()
    {
        var entries = _model.Layout.Entries;
        for (int l = 0; l < entries.Count; l++)
        {
            var e = entries[l];
            var g = _model.Gradient(l);
            for (int t = 0; t < _tasks.Length; t++)
            {
                int i = t * TensorCount + l;
                float lambda = Coefficients[i];
                if (Clamp && (lambda < 0f || lambda > 1f)) continue;
                CoefficientGradients[i] += TensorPrimitives.Dot<float>(g, _tasks[t].AsSpan(e.Offset, e.Length));
            }
        }
    }

    /// <summary>Sets every coefficient gradient to zero.</summary>
    public void ZeroCoefficientGradients() => Array.Clear(CoefficientGradients);
}
