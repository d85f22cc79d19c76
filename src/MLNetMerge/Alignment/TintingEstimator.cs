using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>
/// Model Tinting / Tinting++ as an alignment stage (Jung et al. 2024, arXiv:2412.19098; docs/methods/tinting.md). Transductive: it reads each task's unlabeled
/// test inputs from <see cref="MergeInputs.Data"/>, the base and fine-tuned checkpoints from <see cref="MergeInputs.Family"/>
/// (task vectors, heads, and the individual models' pseudo-labels), and learns layer-wise coefficients from λ = init
/// (the merge stage's own weights are not reused: Tinting re-merges from the task vectors) jointly with one layer per task,
/// for R rounds of sequential per-task Adam steps in a seeded shuffled task order.
/// </summary>
internal sealed class TintingEstimator : IAlignmentEstimator
{
    private readonly TintingConfig _options;
    private readonly ulong _seed;

    /// <summary>Creates the stage.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="seed">Seed of the task order and the batch draws.</param>
    /// <exception cref="RecipeException">A setting is out of range.</exception>
    internal TintingEstimator(TintingConfig options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rounds < 1 || options.BatchSize < 1 || !(options.LearningRate > 0) || options.Block < 0)
            throw new RecipeException(null, $"{Method(options)}: rounds and batch must be ≥ 1, lr > 0, block ≥ 0 (got {options.Rounds}, {options.BatchSize}, {options.LearningRate}, {options.Block}).");
        _options = options;
        _seed = seed;
    }

    private static string Method(TintingConfig o) => o.PlusPlus ? TintingSettings.TintingPlusPlus : TintingSettings.Tinting;

    /// <summary>The settings.</summary>
    internal TintingConfig Options => _options;

    /// <inheritdoc/>
    public string Name => Method(_options);

    /// <inheritdoc/>
    /// <summary>Whether each task gets its own copy of a transformer block (<c>layer</c> an index), so the tasks no longer
    /// share one encoder (a multi-head export cannot hold them).</summary>
    public bool PerTaskBlock => _options.Block is not null;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, ParameterValue> Parameters => TintingSettings.ToParameters(_options);

    /// <inheritdoc/>
    /// <exception cref="AlignmentDataException">The data and the merged model name different tasks; a task has no examples,
    /// examples of the wrong size, or a class count that differs from its head's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    /// <exception cref="MergeException">A duplicated block was asked for and the family's encoder is not a vision transformer.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(inputs);
        var family = inputs.Family;
        var tasks = merged.TaskNames;
        var encoder = family.Session;
        var model = encoder.Model;
        var vit = model as VisionTransformer;
        if (_options.Block is not null && vit is null)
            throw new MergeException(encoder.Architecture.ConfigPath, null, $"{Name} with a duplicated transformer block (layer: {_options.Block}) runs on vision transformers (ViT, CLIP); this family's encoder is {model.ArchitectureName}. Use layer: head.");
        if (_options.Block is int block && vit is not null && (block < 0 || block >= vit.Config.NumLayers))
            throw new MergeException(encoder.Architecture.ConfigPath, null, $"{Name}: layer {block} is not a transformer block of this family's encoder, which has {vit.Config.NumLayers} (layer: 0 … {vit.Config.NumLayers - 1}, or head).");
        var data = AlignmentInputs.Check(Name, merged, inputs, encoder).ToDictionary(d => d.Task, d => d.Data, StringComparer.Ordinal);
        var readers = tasks.ToDictionary(t => t, t => family.Tasks.First(m => m.Name == t).Reader, StringComparer.Ordinal);
        var heads = tasks.Select(t => TaskHead.Read(readers[t], model.EmbeddingSize)).ToArray();
        for (int i = 0; i < tasks.Count; i++)
            if (data[tasks[i]].ClassCount != heads[i].ClassCount)
                throw new AlignmentDataException(tasks[i], $"{Name}: the head in {readers[tasks[i]].Path} has {heads[i].ClassCount} classes; the task's data names {data[tasks[i]].ClassCount}.");

        // θ0 and τt in the arena's layout, read through the family's encoder prefix.
        var config = vit is null ? null : VisionConfigState.Read(VisionConfigState.Write(vit.Config));
        var arena = model.Parameters;
        var theta0 = Flatten(encoder.ReadWeights(family.Base), arena);
        var taus = new float[tasks.Count][];
        var individual = new float[tasks.Count][];                        // T × (N_t, K_t) individual logits
        for (int i = 0; i < tasks.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var thetaT = Flatten(encoder.ReadWeights(readers[tasks[i]]), arena);
            var emb = encoder.EmbedCheckpoint(readers[tasks[i]], data[tasks[i]], cancellationToken); // (N, E) under θt
            individual[i] = heads[i].Logits(emb, data[tasks[i]].Count);
            for (int j = 0; j < thetaT.Length; j++) thetaT[j] -= theta0[j];
            taus[i] = thetaT;
            progress?.Report(new MergeProgress($"{Name}: pseudo-labels", i + 1, tasks.Count));
        }
        var trainer = new TintingTrainer(model, theta0, taus, heads, new TintingTrainerSettings
        {
            Block = _options.Block ?? -1, Loss = _options.Loss, Filter = _options.EffectiveFilter,
            LearningRate = _options.LearningRate, InitialCoefficient = (float)_options.InitialCoefficient,
        });
        var history = Train(trainer, tasks.Select(t => data[t]).ToArray(), individual, progress, cancellationToken);

        var finalHeads = new TaskHead[tasks.Count];
        var blocks = new float[tasks.Count][];
        int e = model.EmbeddingSize;
        for (int i = 0; i < tasks.Count; i++)
        {
            var h = trainer.Head(i);
            int k = heads[i].ClassCount;
            finalHeads[i] = new TaskHead(h[..(k * e)].ToArray(), h[(k * e)..].ToArray(), k, e);
            blocks[i] = trainer.BlockValues(i).ToArray();
        }
        // The tinted model runs on its own buffers (a ViT rebuilds from the config in its state, any other encoder from the
        // family's architecture).
        IDenseEncoder own = config is not null ? new VisionTransformer(config) : encoder.Architecture.CreateEncoder();
        return new TintedModel(merged, Name, Parameters, own, config, tasks, trainer.MergedValues(), (float[])trainer.Merge.Coefficients.Clone(),
            finalHeads, _options.Block ?? -1, blocks, history);
    }

    /// <summary>The rounds: per round a seeded task order, per task one batch and one step; returns each round's mean loss.</summary>
    internal List<double> Train(TintingTrainer trainer, IReadOnlyList<TaskDataset> data, IReadOnlyList<float[]> individual,
        IProgress<MergeProgress>? progress, CancellationToken cancellationToken)
    {
        int tCount = data.Count, batch = _options.BatchSize;
        var batches = Enumerable.Range(0, tCount).Select(t => new TintingBatches(_seed, t, data[t].Count)).ToArray();
        int len = data[0].FeatureLength, maxK = Enumerable.Range(0, tCount).Max(trainer.ClassCount);
        var x = new float[batch * len];                                   // (B, D) gathered inputs
        var y = new float[batch * maxK];                                  // (B, K) gathered individual logits
        var history = new List<double>(_options.Rounds);
        double running = double.NaN;
        for (int r = 0; r < _options.Rounds; r++)
        {
            double sum = 0; int steps = 0;
            foreach (int t in TintingSchedule.TaskOrder(_seed, r, tCount))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var idx = batches[t].Next(batch);
                int k = trainer.ClassCount(t), b = idx.Length;
                for (int i = 0; i < b; i++)
                {
                    data[t].Example(idx[i]).CopyTo(x.AsSpan(i * len, len));
                    individual[t].AsSpan(idx[i] * k, k).CopyTo(y.AsSpan(i * k, k));
                }
                var res = trainer.Step(t, x.AsSpan(0, b * len), b, y.AsSpan(0, b * k));
                if (res.Kept > 0) { sum += res.Loss; steps++; }
            }
            double mean = steps > 0 ? sum / steps : 0;
            history.Add(mean);
            running = double.IsNaN(running) ? mean : 0.9 * running + 0.1 * mean;
            progress?.Report(new MergeProgress($"{Name}: loss {running:F4}", r + 1, _options.Rounds, running));
        }
        return history;
    }

    private static float[] Flatten(Dictionary<string, float[]> weights, Nn.ParameterArena arena)
    {
        var flat = new float[arena.Layout.TotalLength];
        foreach (var e in arena.Layout.Entries) weights[e.Name].CopyTo(flat, e.Offset);
        return flat;
    }
}
