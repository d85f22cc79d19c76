using System.Numerics.Tensors;
using System.Text.RegularExpressions;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>What the merged model's task outputs are fitted to.</summary>
internal enum TintingLossKind
{
    /// <summary>Cross-entropy to the individual model's hard pseudo-label <c>argmax Wt(ft(x))</c> (the paper's loss).</summary>
    Hard,

    /// <summary>Soft targets: <c>KL(softmax(individual logits) ‖ softmax(merged logits))</c>, batch mean.</summary>
    Soft,

    /// <summary>Mean squared error between the merged and the individual task outputs (logits; the paper's regression form).</summary>
    Mse,
}

/// <summary>Settings of one <see cref="TintingTrainer"/>.</summary>
internal sealed record TintingTrainerSettings
{
    /// <summary>Task-specific layer: −1 for each task's classification head (default), else the index of the transformer
    /// block duplicated per task.</summary>
    public int Block { get; init; } = -1;

    /// <summary>Loss (default <see cref="TintingLossKind.Hard"/>).</summary>
    public TintingLossKind Loss { get; init; } = TintingLossKind.Hard;

    /// <summary>Sample filter (default none; Tinting++ uses <see cref="TintingFilterRule.DisagreeAndMoreConfident"/>).</summary>
    public TintingFilterRule Filter { get; init; } = TintingFilterRule.None;

    /// <summary>Adam learning rate for coefficients and task layers (default 1e-2, the paper's vision setting).</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Initial value of every merge coefficient (default 0.3).</summary>
    public float InitialCoefficient { get; init; } = 0.3f;
}

/// <summary>Loss of one Tinting step and how many samples of the batch it used.</summary>
/// <param name="Loss">Mean loss over the kept samples (0 when none is kept).</param>
/// <param name="Kept">Samples kept by the filter.</param>
internal readonly record struct TintingStepResult(float Loss, int Kept);

/// <summary>
/// Model Tinting's trainable state and step (Jung et al. 2024, arXiv:2412.19098; docs/methods/tinting.md): merge coefficients <c>λ (T, L)</c> clamped to
/// [0, 1] in <c>θ = θ0 + Σt clamp(λt) τt</c> (through <see cref="DifferentiableMerge"/>), jointly with one task-specific
/// layer per task, its head <c>(Wt, bt)</c> or a per-task copy of one transformer block that replaces the merged block in
/// task t's forward and backward passes. One step on task t and a batch x: <c>z = Wt f_θ(x) + bt</c>, the loss of
/// <see cref="TintingLossKind"/> against the individual model's logits over the samples <see cref="TintingSampleFilter"/> keeps,
/// one backward pass for ∂L/∂θ, then <c>∂L/∂λt'^l = ⟨∂L/∂θ^l, τt'^l⟩</c> for every task t', and Adam on λ (one optimiser,
/// one step count) and on task t's layer (one optimiser per task: a layer only steps with its own task, as
/// torch.optim.Adam skips parameters without a gradient).
/// </summary>
internal sealed class TintingTrainer
{
    private readonly IDenseEncoder _encoder;
    private readonly ParameterArena _arena;
    private readonly TintingTrainerSettings _settings;
    private readonly int _e;
    private readonly int[] _classes;
    private readonly float[][] _head, _headGrad;     // T × (K·E + K): W (K, E) then b (K)
    private readonly int[] _block;                   // arena entry indices of the duplicated block (empty: head mode)
    private readonly float[][] _blockValues, _blockGrad; // T × (Σ block entry lengths)
    private readonly Adam _coefficientAdam;
    private readonly Adam[] _layerAdam;
    private int _capacity, _maxK;
    private float[] _logits = [], _mergedProb = [], _individualProb = [], _dLogits = [], _dEmbedding = []; // (B, K) ×4, (B, E)
    private float[] _cLogits = [], _cTargets = [], _cLogP = [], _cLogT = [], _cDLogits = [];              // (kept, K) each
    private int[] _labels = [];                      // (kept)
    private bool[] _keep = [];                       // (B)

    /// <summary>Creates the trainer; λ starts at <see cref="TintingTrainerSettings.InitialCoefficient"/>, heads at the given
    /// (fine-tuned) heads, a duplicated block at the merged model's block for those initial coefficients.</summary>
    /// <param name="encoder">The encoder whose arena holds θ (its values are overwritten).</param>
    /// <param name="baseValues">θ0 (P) in the arena's layout.</param>
    /// <param name="taskVectors">τt (T × P).</param>
    /// <param name="heads">Each task's head (T), all on the encoder's embedding width.</param>
    /// <param name="settings">Settings.</param>
    /// <exception cref="ArgumentException">Counts or widths disagree, or no block of that index.</exception>
    public TintingTrainer(IDenseEncoder encoder, float[] baseValues, IReadOnlyList<float[]> taskVectors, IReadOnlyList<TaskHead> heads, TintingTrainerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(heads);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(taskVectors);
        if (heads.Count != taskVectors.Count) throw new ArgumentException($"{heads.Count} heads for {taskVectors.Count} task vectors.", nameof(heads));
        if (taskVectors.Count == 0) throw new ArgumentException("Tinting needs at least one task.", nameof(taskVectors));
        _encoder = encoder;
        _arena = encoder.Parameters;
        _settings = settings;
        _e = encoder.EmbeddingSize;
        Merge = new DifferentiableMerge(_arena, baseValues, taskVectors, clampToUnitInterval: true, settings.InitialCoefficient);
        int t = heads.Count;
        _classes = new int[t];
        _head = new float[t][]; _headGrad = new float[t][];
        for (int i = 0; i < t; i++)
        {
            var h = heads[i];
            if (h.InputSize != _e) throw new ArgumentException($"head {i} reads {h.InputSize}-wide embeddings; the encoder gives {_e}.", nameof(heads));
            _classes[i] = h.ClassCount;
            _head[i] = [.. h.Weight, .. h.Bias];
            _headGrad[i] = new float[_head[i].Length];
        }
        _block = settings.Block < 0 ? [] : BlockTensors(_arena.Layout, settings.Block);
        int blockLength = _block.Sum(l => _arena.Layout.Entries[l].Length);
        _blockValues = new float[t][]; _blockGrad = new float[t][];
        if (_block.Length > 0)
        {
            Merge.Materialize();
            for (int i = 0; i < t; i++)
            {
                _blockValues[i] = new float[blockLength];
                _blockGrad[i] = new float[blockLength];
                CopyBlock(fromArena: true, _blockValues[i], _arena.Values);
            }
        }
        _coefficientAdam = new Adam(Merge.Coefficients.Length, new AdamOptions { LearningRate = settings.LearningRate });
        _layerAdam = new Adam[t];
        for (int i = 0; i < t; i++)
            _layerAdam[i] = new Adam(_block.Length > 0 ? blockLength : _head[i].Length, new AdamOptions { LearningRate = settings.LearningRate });
    }

    /// <summary>
    /// Arena entries of transformer block <paramref name="block"/>: names containing <c>layer.{i}.</c>, <c>layers.{i}.</c>
    /// or <c>resblocks.{i}.</c> (ViT, CLIP, OpenCLIP, BERT naming).
    /// </summary>
    /// <exception cref="ArgumentException">No tensor belongs to that block.</exception>
    public static int[] BlockTensors(ParameterLayout layout, int block)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var pattern = new Regex($@"(^|\.)(layer|layers|resblocks)\.{block}\.", RegexOptions.CultureInvariant);
        var found = Enumerable.Range(0, layout.Entries.Count).Where(i => pattern.IsMatch(layout.Entries[i].Name)).ToArray();
        if (found.Length == 0) throw new ArgumentException($"the encoder has no transformer block {block} (no tensor named like 'layer.{block}.').", nameof(block));
        return found;
    }

    /// <summary>The coefficients and their gradients.</summary>
    public DifferentiableMerge Merge { get; }

    /// <summary>Number of tasks T.</summary>
    public int TaskCount => _classes.Length;

    /// <summary>The settings.</summary>
    public TintingTrainerSettings Settings => _settings;

    /// <summary>Classes K of task <paramref name="task"/>.</summary>
    public int ClassCount(int task) => _classes[task];

    /// <summary>Whether the task-specific layer is a transformer block (else the head).</summary>
    public bool TrainsBlock => _block.Length > 0;

    /// <summary>Arena entry indices of the duplicated block (empty in head mode).</summary>
    public IReadOnlyList<int> BlockEntries => _block;

    /// <summary>Task <paramref name="task"/>'s head, <c>W (K, E)</c> then <c>b (K)</c>; an optimiser or a test may edit it.</summary>
    public Span<float> Head(int task) => _head[task];

    /// <summary>∂L/∂(W, b) of the latest <see cref="ComputeGradients"/> for that task, laid out as <see cref="Head"/>.</summary>
    public ReadOnlySpan<float> HeadGradient(int task) => _headGrad[task];

    /// <summary>Task <paramref name="task"/>'s copy of the block, its entries back to back (empty in head mode).</summary>
    public Span<float> BlockValues(int task) => _block.Length > 0 ? _blockValues[task] : default;

    /// <summary>∂L/∂(block copy) of the latest <see cref="ComputeGradients"/> for that task.</summary>
    public ReadOnlySpan<float> BlockGradient(int task) => _block.Length > 0 ? _blockGrad[task] : default;

    /// <summary>The merged weights <c>θ0 + Σt clamp(λt) τt</c> for the current coefficients (P), a copy.</summary>
    public float[] MergedValues()
    {
        Merge.Materialize();
        return (float[])_arena.Values.Clone();
    }

    private void CopyBlock(bool fromArena, Span<float> block, Span<float> arena)
    {
        int o = 0;
        foreach (int l in _block)
        {
            var e = _arena.Layout.Entries[l];
            if (fromArena) arena.Slice(e.Offset, e.Length).CopyTo(block.Slice(o, e.Length));
            else block.Slice(o, e.Length).CopyTo(arena.Slice(e.Offset, e.Length));
            o += e.Length;
        }
    }

    private void EnsureCapacity(int batch, int k)
    {
        if (batch <= _capacity && k <= _maxK) return;
        _capacity = Math.Max(batch, _capacity); _maxK = Math.Max(k, _maxK);
        int bk = _capacity * _maxK;
        _logits = new float[bk]; _mergedProb = new float[bk]; _individualProb = new float[bk]; _dLogits = new float[bk];
        _cLogits = new float[bk]; _cTargets = new float[bk]; _cLogP = new float[bk]; _cLogT = new float[bk]; _cDLogits = new float[bk];
        _dEmbedding = new float[_capacity * _e];
        _labels = new int[_capacity]; _keep = new bool[_capacity];
    }

    /// <summary>The mean loss of task <paramref name="task"/> on a batch with the current parameters (no gradients).</summary>
    /// <param name="task">Task index.</param>
    /// <param name="inputs">Inputs (B, InputSize).</param>
    /// <param name="batch">B.</param>
    /// <param name="individualLogits">The individual model's logits for the same inputs (B, K).</param>
    public TintingStepResult Loss(int task, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> individualLogits)
        => Run(task, inputs, batch, individualLogits, backward: false);

    /// <summary>Forward and backward for task <paramref name="task"/> on a batch: fills the coefficient gradients
    /// (<see cref="DifferentiableMerge.CoefficientGradients"/>, overwritten) and the task layer's gradient.</summary>
    /// <inheritdoc cref="Loss"/>
    public TintingStepResult ComputeGradients(int task, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> individualLogits)
        => Run(task, inputs, batch, individualLogits, backward: true);

    /// <summary>One Adam step on λ and on task <paramref name="task"/>'s layer from the latest gradients.</summary>
    public void ApplyUpdate(int task)
    {
        _coefficientAdam.Step(Merge.Coefficients, Merge.CoefficientGradients);
        if (_block.Length > 0) _layerAdam[task].Step(_blockValues[task], _blockGrad[task]);
        else _layerAdam[task].Step(_head[task], _headGrad[task]);
    }

    /// <summary><see cref="ComputeGradients"/> then <see cref="ApplyUpdate"/> (skipped when the filter kept nothing).</summary>
    /// <inheritdoc cref="Loss"/>
    public TintingStepResult Step(int task, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> individualLogits)
    {
        var r = ComputeGradients(task, inputs, batch, individualLogits);
        if (r.Kept > 0) ApplyUpdate(task);
        return r;
    }

    private TintingStepResult Run(int task, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> individualLogits, bool backward)
    {
        if ((uint)task >= (uint)TaskCount) throw new ArgumentOutOfRangeException(nameof(task));
        int k = _classes[task], e = _e, bk = batch * k;
        if (inputs.Length < batch * _encoder.InputSize) throw new ArgumentException($"expected {batch}×{_encoder.InputSize} inputs, got {inputs.Length}.", nameof(inputs));
        if (individualLogits.Length < bk) throw new ArgumentException($"expected {batch}×{k} individual logits, got {individualLogits.Length}.", nameof(individualLogits));
        EnsureCapacity(batch, k);
        Merge.Materialize();                                             // θ for the current λ
        if (_block.Length > 0) CopyBlock(fromArena: false, _blockValues[task], _arena.Values);
        _encoder.Forward(inputs, batch);
        var embedding = _encoder.Embedding(batch);                       // (B, E)
        var head = _head[task].AsSpan();
        var w = head[..(k * e)]; var b = head[(k * e)..];                // (K, E), (K)
        var logits = _logits.AsSpan(0, bk);                              // (B, K)
        Linear.Forward<float>(logits, embedding, w, b, batch, e, k);
        var pm = _mergedProb.AsSpan(0, bk); var pi = _individualProb.AsSpan(0, bk); // (B, K) each
        SoftmaxRows(pm, logits, batch, k);
        SoftmaxRows(pi, individualLogits[..bk], batch, k);
        var keep = _keep.AsSpan(0, batch);                               // (B)
        int kept = TintingSampleFilter.Apply(keep, pm, pi, batch, k, _settings.Filter);
        if (kept == 0)
        {
            if (backward) { Merge.ZeroCoefficientGradients(); Array.Clear(_headGrad[task]); if (_block.Length > 0) Array.Clear(_blockGrad[task]); }
            return new TintingStepResult(0f, 0);
        }
        int ck = kept * k;
        var cl = _cLogits.AsSpan(0, ck); var ct = _cTargets.AsSpan(0, ck);   // (kept, K) each
        for (int i = 0, j = 0; i < batch; i++)
        {
            if (!keep[i]) continue;
            logits.Slice(i * k, k).CopyTo(cl.Slice(j * k, k));
            individualLogits.Slice(i * k, k).CopyTo(ct.Slice(j * k, k));
            j++;
        }
        var cd = _cDLogits.AsSpan(0, ck); cd.Clear();                   // (kept, K)
        var clp = _cLogP.AsSpan(0, ck);                                  // (kept, K)
        float loss;
        switch (_settings.Loss)
        {
            case TintingLossKind.Hard:
                var labels = _labels.AsSpan(0, kept);                    // (kept)
                for (int i = 0; i < kept; i++) labels[i] = TintingSampleFilter.Top1(ct.Slice(i * k, k)).Index;
                loss = CrossEntropy.Forward<float>(clp, cl, labels, kept, k);
                if (backward) CrossEntropy.Backward<float>(cd, clp, labels, kept, k, 1f);
                break;
            case TintingLossKind.Soft:
                var ctlp = _cLogT.AsSpan(0, ck);                         // (kept, K)
                loss = KlDivergence.Forward<float>(ctlp, clp, ct, cl, kept, k);
                if (backward) KlDivergence.Backward<float>(default, cd, ctlp, clp, kept, k, 1f);
                break;
            default:
                loss = Regression.MseForward<float>(cl, ct);
                if (backward) Regression.MseBackward<float>(cd, default, cl, ct, 1f);
                break;
        }
        if (!backward) return new TintingStepResult(loss, kept);
        var dLogits = _dLogits.AsSpan(0, bk); dLogits.Clear();           // (B, K): dropped samples stay 0
        for (int i = 0, j = 0; i < batch; i++)
        {
            if (!keep[i]) continue;
            cd.Slice(j * k, k).CopyTo(dLogits.Slice(i * k, k));
            j++;
        }
        var dEmb = _dEmbedding.AsSpan(0, batch * e); dEmb.Clear();       // (B, E)
        var g = _headGrad[task].AsSpan(); g.Clear();
        Linear.Backward<float>(dEmb, g[..(k * e)], g[(k * e)..], dLogits, embedding, w, batch, e, k);
        _arena.ZeroGrad();
        _encoder.BackwardFromEmbedding(dEmb, batch);
        if (_block.Length > 0)
        {
            CopyBlock(fromArena: true, _blockGrad[task], _arena.Gradients);
            foreach (int l in _block) _arena.Gradient(l).Clear();     // the merged block does not feed task t
        }
        Merge.ZeroCoefficientGradients();
        Merge.AccumulateCoefficientGradients();
        return new TintingStepResult(loss, kept);
    }

    /// <summary>Row-wise softmax <c>p_ij = exp(z_ij − max_j z_ij) / Σ_j exp(z_ij − max_j z_ij)</c> of (N, K) logits.</summary>
    public static void SoftmaxRows(Span<float> probabilities, ReadOnlySpan<float> logits, int n, int k)
    {
        for (int i = 0; i < n; i++) TensorPrimitives.SoftMax(logits.Slice(i * k, k), probabilities.Slice(i * k, k));
    }

    /// <summary>
    /// Share of effective coefficients <c>clamp(λ, 0, 1)</c> below <paramref name="threshold"/> (default 1e-5, the paper's
    /// sparsity), over the tensors shared by all tasks (a duplicated block's coefficients no longer matter and are left out).
    /// </summary>
    public double CoefficientSparsity(double threshold = 1e-5)
    {
        int l = Merge.TensorCount, count = 0, total = 0;
        var skip = new HashSet<int>(_block);
        for (int t = 0; t < TaskCount; t++)
            for (int j = 0; j < l; j++)
            {
                if (skip.Contains(j)) continue;
                total++;
                if (Math.Clamp(Merge.Coefficients[t * l + j], 0f, 1f) < threshold) count++;
            }
        return total == 0 ? 0 : (double)count / total;
    }
}
