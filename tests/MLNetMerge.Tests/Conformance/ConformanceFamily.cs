using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Conformance;

/// <summary>
/// The family every estimator is checked on: two tasks of the committed vision zoo (fashion, digits; a ViT of width 64),
/// and the first examples of each task's test split. Two tasks because SLERP takes exactly two models.
/// </summary>
internal static class ConformanceFamily
{
    public static readonly string[] Tasks = ["fashion", "digits"];

    /// <summary>Examples per task the outputs are compared on.</summary>
    public const int Examples = 24;

    /// <summary>Alignment data per task (few-shot stages draw 2 per class from it).</summary>
    public const int AlignExamples = 60;

    public static ModelFamily Open() => ModelFamily.Load(Path.Combine(ZooPaths.Vision, "base.safetensors"),
        Tasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));

    /// <summary>The same family through the public API (its engine family is <see cref="MergeFamily.Family"/>).</summary>
    public static MergeFamily OpenPublic(Microsoft.ML.MLContext ml, string[]? tasks = null) => ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
        (tasks ?? Tasks).Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));

    /// <summary>The first <paramref name="count"/> test examples of each task, labeled.</summary>
    public static IReadOnlyDictionary<string, TaskDataset> Test(int count = Examples)
    {
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        return Tasks.ToDictionary(t => t, t =>
        {
            var data = ZooManifest.LoadSplit(ZooPaths.Vision, manifest.Tasks.Single(x => x.Name == t), manifest.Tasks.Single(x => x.Name == t).Test);
            return count >= data.Count ? data : data.Subset([.. Enumerable.Range(0, count)]);
        }, StringComparer.Ordinal);
    }

    /// <summary>
    /// Short schedules for stages whose defaults train for hundreds of steps (the conformance checks test the contract,
    /// not accuracy); a stage not listed runs with its registry defaults.
    /// </summary>
    public static IReadOnlyDictionary<string, ParameterValue> ShortSchedule(string stage)
    {
        static ParameterValue N(double v) => new ParameterValue.Scalar(v);
        return stage switch
        {
            "tinting" or "tinting_plus_plus" => new Dictionary<string, ParameterValue> { ["rounds"] = N(6), ["batch"] = N(8) },
            "adamerging" or "cart_plus_plus" => new Dictionary<string, ParameterValue> { ["steps"] = N(4), ["batch_size"] = N(8) },
            "surgery" => new Dictionary<string, ParameterValue> { ["steps"] = N(6), ["batch"] = N(8) },
            "regmean" or "fisher" => new Dictionary<string, ParameterValue> { ["samples"] = N(16) },
            _ => new Dictionary<string, ParameterValue>(),
        };
    }

    /// <summary>Every registered alignment stage plus <see cref="CenteringStage"/> (so the checks always run on at least
    /// one stage, and restoring through a caller's own registry is covered).</summary>
    public static IReadOnlyList<AlignmentMethod> AlignmentRegistry { get; } = [.. AlignmentMethods.All, CenteringStage.Entry];
}

/// <summary>
/// A small alignment stage defined by the tests: per task, the mean μ_t of the merged embeddings of the task's
/// (unlabeled) inputs is subtracted before the task's own head, <c>p = softmax(W(f(x) − μ_t) + b)</c> — a representation
/// bias correction. Its state is the means; it takes one parameter, <c>strength</c> s (μ_t is scaled by s, default 1).
/// </summary>
internal sealed class CenteringStage(IReadOnlyDictionary<string, ParameterValue>? parameters) : IAlignmentEstimator
{
    public const string MethodName = "test_centering";

    /// <summary>Its one declared parameter.</summary>
    public static readonly IReadOnlyList<MethodParameter> Declared = [MethodParameter.Number("strength", 1.0, "Scale of the subtracted mean.", 0, 10)];

    public static AlignmentMethod Entry { get; } = new(MethodName, DataRequirement.UnlabeledTest, false, "test stage", Declared,
        (p, _) => new CenteringStage(p), CenteringModel.Restore);

    private readonly IReadOnlyDictionary<string, ParameterValue> _settings = Read(parameters);

    public string Name => MethodName;

    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    public IReadOnlyDictionary<string, ParameterValue> Parameters => _settings;

    private static IReadOnlyDictionary<string, ParameterValue> Read(IReadOnlyDictionary<string, ParameterValue>? given)
    {
        var p = new StageParameters(MethodName, Declared, given);
        p.Number("strength");
        return p.Finish();
    }

    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var settings = _settings;
        double s = settings.TryGetValue("strength", out var v) && v is ParameterValue.Scalar sc ? sc.Value : 1.0;
        var encoder = inputs.Family.Session;
        var means = new List<AlignedTensor>();
        foreach (var task in merged.TaskNames)
        {
            if (inputs.Data is null || !inputs.Data.TryGetValue(task, out var data)) throw new AlignmentDataException(null, $"no data for task '{task}'.");
            var x = encoder.EmbedMerged(merged, task, data, cancellationToken);            // (N, E)
            int e = encoder.EmbeddingSize, n = data.Count;
            var mu = new float[e];                                                          // (E)
            for (int i = 0; i < n; i++) for (int j = 0; j < e; j++) mu[j] += x[i * e + j];
            for (int j = 0; j < e; j++) mu[j] = (float)(s * mu[j] / n);
            means.Add(new AlignedTensor(task + ".mean", [e], mu));
        }
        return new CenteringModel(merged, encoder, settings, means);
    }
}

/// <summary>The fitted <see cref="CenteringStage"/>.</summary>
internal sealed class CenteringModel(MergedModel merged, EncoderSession encoder, IReadOnlyDictionary<string, ParameterValue> parameters,
    IReadOnlyList<AlignedTensor> state) : AlignedModel(merged)
{
    public override string Method => CenteringStage.MethodName;

    public override IReadOnlyDictionary<string, ParameterValue> Parameters => parameters;

    public override IReadOnlyList<string> TaskNames => Merged.TaskNames;

    public override IReadOnlyList<AlignedTensor> State => state;

    internal override TaskExport? ExportTask(string task) => null;

    public static AlignedModel Restore(MergedModel merged, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state) =>
        new CenteringModel(merged, merged.Session, parameters, state);

    public override float[] Embed(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        var x = encoder.EmbedMerged(Merged, task, data, cancellationToken);               // (N, E)
        var mu = state.Single(t => t.Name == task + ".mean").Values;                       // (E)
        var result = new float[x.Length];
        for (int i = 0; i < data.Count; i++)
            for (int j = 0; j < mu.Length; j++) result[i * mu.Length + j] = x[i * mu.Length + j] - mu[j];
        return result;
    }

    public override float[] PredictProbabilities(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        var head = new TaskHead(Merged.HeadFloat32(task, TaskHead.WeightName), Merged.HeadFloat32(task, TaskHead.BiasName),
            Merged.HeadEntries[$"{task}.{TaskHead.WeightName}"].Shape[0], encoder.EmbeddingSize);
        return head.Probabilities(Embed(task, data, cancellationToken), data.Count);
    }
}
