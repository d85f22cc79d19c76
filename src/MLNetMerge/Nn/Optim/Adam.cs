namespace MLNetMerge.Nn.Optim;

/// <summary>Settings of <see cref="Adam"/>, with PyTorch's defaults.</summary>
internal sealed record AdamOptions
{
    /// <summary>Learning rate (default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>First-moment decay β1 (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Second-moment decay β2 (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Denominator term ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Weight decay (default 0; PyTorch's AdamW defaults to 0.01, see <see cref="Adam.AdamW"/>).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Decoupled weight decay (AdamW) instead of L2 added to the gradient (Adam).</summary>
    public bool Decoupled { get; init; }
}

/// <summary>
/// Adam and AdamW with PyTorch's exact update (torch.optim.Adam / AdamW, single-tensor path), step t counted from 1:
/// Adam adds L2 decay to the gradient <c>g ← g + wd·θ</c>; AdamW decays the weights first <c>θ ← θ·(1 − lr·wd)</c>.
/// Then <c>m ← β1·m + (1 − β1)·g</c>, <c>v ← β2·v + (1 − β2)·g²</c>, <c>bc1 = 1 − β1ᵗ</c>, <c>bc2 = 1 − β2ᵗ</c>,
/// <c>θ ← θ − (lr/bc1) · m / (√v/√bc2 + ε)</c>.
/// The moment buffers live in the optimiser, parallel to the parameter arena it updates.
/// </summary>
internal sealed class Adam
{
    private readonly float[] _m; // (P) first moments
    private readonly float[] _v; // (P) second moments

    /// <summary>Creates an optimiser for <paramref name="parameterCount"/> parameters (moments start at zero).</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="options">Hyper-parameters.</param>
    public Adam(int parameterCount, AdamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _m = new float[parameterCount];
        _v = new float[parameterCount];
    }

    /// <summary>Creates AdamW with PyTorch's defaults (weight decay 0.01) unless overridden.</summary>
    /// <param name="parameterCount">Number of parameters.</param>
    /// <param name="learningRate">Learning rate.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    public static Adam AdamW(int parameterCount, double learningRate = 1e-3, double weightDecay = 0.01)
        => new(parameterCount, new AdamOptions { LearningRate = learningRate, WeightDecay = weightDecay, Decoupled = true });

    /// <summary>The hyper-parameters.</summary>
    public AdamOptions Options { get; }

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>Applies one update to <paramref name="parameters"/> from <paramref name="gradients"/> (not modified).</summary>
    /// <param name="parameters">Parameters (P), updated in place.</param>
    /// <param name="gradients">Gradients (P).</param>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        if (parameters.Length != _m.Length || gradients.Length != _m.Length)
            throw new ArgumentException($"expected {_m.Length} parameters and gradients, got {parameters.Length} and {gradients.Length}.");
        StepCount++;
        var o = Options;
        int t = StepCount;
        double bc1 = 1.0 - Math.Pow(o.Beta1, t);
        double bc2 = 1.0 - Math.Pow(o.Beta2, t);
        float stepSize = (float)(o.LearningRate / bc1);
        float bc2Sqrt = (float)Math.Sqrt(bc2);
        float b1 = (float)o.Beta1, b2 = (float)o.Beta2, oneMinusB1 = (float)(1 - o.Beta1), oneMinusB2 = (float)(1 - o.Beta2);
        float eps = (float)o.Epsilon, wd = (float)o.WeightDecay;
        float decay = (float)(1.0 - o.LearningRate * o.WeightDecay);
        bool coupled = !o.Decoupled && o.WeightDecay != 0;
        bool decoupled = o.Decoupled && o.WeightDecay != 0;
        var m = _m.AsSpan();
        var v = _v.AsSpan();
        for (int i = 0; i < parameters.Length; i++)
        {
            float p = parameters[i];
            float g = gradients[i];
            if (coupled) g += wd * p;
            if (decoupled) p *= decay;
            float mi = m[i] * b1 + oneMinusB1 * g;
            float vi = v[i] * b2 + oneMinusB2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float denom = MathF.Sqrt(vi) / bc2Sqrt + eps;
            parameters[i] = p - stepSize * (mi / denom);
        }
    }

    /// <summary>Forgets the moments and the step count.</summary>
    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        StepCount = 0;
    }
}
