using System.Text.Json;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>
/// What a fitted pipeline computes for the examples of one task: the embeddings that feed the task's classifier, the
/// logits, the class probabilities and the arg-max labels. For a task an alignment stage predicts, the logits are
/// <c>log p</c> (softmax logits up to a per-row constant, since stages expose probabilities).
/// </summary>
/// <param name="Task">Task name.</param>
/// <param name="Count">N examples.</param>
/// <param name="EmbeddingSize">E.</param>
/// <param name="ClassCount">K.</param>
/// <param name="Embeddings">Embeddings (N, E).</param>
/// <param name="Logits">Logits (N, K).</param>
/// <param name="Probabilities">Class probabilities (N, K); rows sum to 1.</param>
/// <param name="PredictedLabels">Arg-max class (N); the first on ties.</param>
/// <param name="Source">What produced them: <c>merged</c> (merged encoder and the task's head) or the stage's recipe name.</param>
internal sealed record TaskPredictions(string Task, int Count, int EmbeddingSize, int ClassCount, float[] Embeddings, float[] Logits,
    float[] Probabilities, int[] PredictedLabels, string Source);

/// <summary>
/// The immutable result of <see cref="MergePipeline.Fit"/> (or of <see cref="ModelCatalog.LoadPipeline"/>): the merged
/// model and each alignment stage's fitted model. It <see cref="Transform(string, TaskDataset, CancellationToken)"/>s task
/// data with the last stage that predicts the task, or with the merged encoder and the task's own head.
/// </summary>
/// <param name="Merged">The merged model.</param>
/// <param name="Aligned">Each alignment stage's result, in pipeline order.</param>
internal sealed record FittedPipeline(MergedModel Merged, IReadOnlyList<AlignedModel> Aligned)
{
    private readonly Lock _encoderLock = new();

    /// <summary>The estimator chain this was fitted from (rebuilt from the manifest after loading).</summary>
    public MergePipeline? Pipeline { get; init; }

    /// <summary>Tasks it predicts.</summary>
    public IReadOnlyList<string> TaskNames => Merged.TaskNames;

    /// <summary>Runs the pipeline on the examples of <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentException">Unknown task, or examples of the wrong size.</exception>
    /// <exception cref="MergeException">The merged encoder is needed but its architecture is unknown.</exception>
    public TaskPredictions Transform(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(data);
        if (!TaskNames.Contains(task)) throw new ArgumentException($"the pipeline has no task '{task}' (tasks: {string.Join(", ", TaskNames)}).", nameof(task));
        int n = data.Count;
        var stage = Aligned.LastOrDefault(a => a.TaskNames.Contains(task));
        if (stage is not null)
        {
            var probabilities = stage.PredictProbabilities(task, data, cancellationToken);     // (N, K)
            var embeddings = stage.Embed(task, data, cancellationToken);                      // (N, E)
            int k = probabilities.Length / Math.Max(n, 1);
            var logits = new float[probabilities.Length];                                     // (N, K)
            for (int i = 0; i < logits.Length; i++) logits[i] = MathF.Log(Math.Max(probabilities[i], float.Epsilon));
            return new TaskPredictions(task, n, embeddings.Length / Math.Max(n, 1), k, embeddings, logits, probabilities, ArgMax(probabilities, n, k), stage.Method);
        }
        var head = Head(task);
        float[] x;
        lock (_encoderLock)
            x = Merged.Session.EmbedMerged(Merged, task, data, cancellationToken);           // (N, E)
        var z = head.Logits(x, n);                                                            // (N, K)
        var p = head.Probabilities(x, n);                                                     // (N, K)
        return new TaskPredictions(task, n, head.InputSize, head.ClassCount, x, z, p, ArgMax(p, n, head.ClassCount), "merged");
    }

    /// <summary>Runs the pipeline on every task of <paramref name="data"/> (keyed by task name).</summary>
    public IReadOnlyDictionary<string, TaskPredictions> Transform(IReadOnlyDictionary<string, TaskDataset> data,
        IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var result = new Dictionary<string, TaskPredictions>(StringComparer.Ordinal);
        int done = 0;
        foreach (var (task, d) in data)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[task] = Transform(task, d, cancellationToken);
            progress?.Report(new MergeProgress("transform", ++done, data.Count));
        }
        return result;
    }

    /// <summary>The task's head from the merged model (<c>classifier.weight</c> (K, E), <c>classifier.bias</c> (K)).</summary>
    /// <exception cref="IncompatibleModelsException">The merged model holds no head for the task.</exception>
    public TaskHead Head(string task)
    {
        if (!Merged.HeadEntries.TryGetValue($"{task}.{TaskHead.WeightName}", out var w) || w.Shape.Length != 2
            || !Merged.HeadEntries.ContainsKey($"{task}.{TaskHead.BiasName}"))
            throw new IncompatibleModelsException(null, TaskHead.WeightName, $"the merged model holds no {TaskHead.WeightName}/{TaskHead.BiasName} head for task '{task}'.");
        return new TaskHead(Merged.HeadFloat32(task, TaskHead.WeightName), Merged.HeadFloat32(task, TaskHead.BiasName), w.Shape[0], w.Shape[1]);
    }

    /// <summary>
    /// The merged model with each task's head replaced by the last stage whose state holds
    /// <c>{task}.classifier.weight</c> and <c>{task}.classifier.bias</c> (what an ONNX export can represent).
    /// </summary>
    /// <exception cref="IncompatibleModelsException">A stage's state holds anything besides task heads (transforms,
    /// coefficients, per-task layers), which a plain encoder-plus-head graph cannot represent.</exception>
    public MergedModel ExportModel()
    {
        if (Aligned.Count == 0) return Merged;
        var heads = Merged.Heads.ToDictionary(kv => kv.Key, kv => new Dictionary<string, byte[]>(kv.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var entries = new Dictionary<string, TensorEntry>(Merged.HeadEntries, StringComparer.Ordinal);
        foreach (var stage in Aligned)
            foreach (var t in stage.State)
            {
                string? task = TaskNames.FirstOrDefault(x => t.Name == $"{x}.{TaskHead.WeightName}" || t.Name == $"{x}.{TaskHead.BiasName}");
                if (task is null)
                    throw new IncompatibleModelsException(null, t.Name, $"stage '{stage.Method}' learned '{t.Name}', which an encoder-plus-head ONNX graph cannot hold; only stages that replace heads export.");
                string name = t.Name[(task.Length + 1)..];
                var bytes = new byte[t.Values.Length * sizeof(float)];
                Buffer.BlockCopy(t.Values, 0, bytes, 0, bytes.Length);
                (heads.TryGetValue(task, out var h) ? h : heads[task] = new(StringComparer.Ordinal))[name] = bytes;
                entries[t.Name] = new TensorEntry(name, Tensors.DType.F32, (int[])t.Shape.Clone());
            }
        var exported = new MergedModel(Merged.Summary, Merged.Layout, Merged.Tensors, Merged.RawTensors,
            heads.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, byte[]>)kv.Value, StringComparer.Ordinal), entries,
            Merged.Modulators, Merged.ModulatorBytes, Merged.TaskTensors);
        return Merged.Architecture is { } architecture ? exported.WithEncoder(architecture, Merged.Session) : exported;
    }

    private static int[] ArgMax(float[] p, int n, int k)
    {
        var y = new int[n];                                                                   // (N)
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
            y[i] = best;
        }
        return y;
    }
}

/// <summary>Fitting a merge estimator as a one-stage pipeline (ML.NET's <c>estimator.Fit(data)</c> → transformer).</summary>
internal static class MergeEstimatorExtensions
{
    /// <summary>Merges <paramref name="inputs"/>' family and returns a fitted pipeline without alignment stages, which can
    /// transform task data, be evaluated, saved and exported.</summary>
    public static FittedPipeline Fit(this IMergeEstimator merge, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(merge);
        ArgumentNullException.ThrowIfNull(inputs);
        return MergePipeline.Create(merge).Fit(inputs, progress, cancellationToken);
    }
}
