using MLNetMerge.Tensors;
using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Encoders;

namespace MLNetMerge.Evaluation;

/// <summary>
/// FT-Classifier Eval (Kong et al. 2024, arXiv:2412.13526; docs/methods/evaluation-protocols.md): per seed, draw <see cref="Shots"/> examples per class from the labeled
/// pool (the validation split; labels only balance the draw), train a head from the task's own head with
/// KL(fine-tuned ‖ merged) on them (<see cref="FtClassifierTraining"/>), and score the test set with it. Reported as
/// mean ± std over <see cref="Seeds"/> seeds; named <c>ftc{k}</c> so reports can plot accuracy against k.
/// The teacher is the task's fine-tuned model: its logits on the pool are given per task name.
/// </summary>
internal sealed class FtClassifierEvalProtocol : EvaluationProtocol
{
    private readonly IReadOnlyDictionary<string, float[]> _teacherLogits;

    /// <summary>Creates the protocol.</summary>
    /// <param name="shots">Examples per class k.</param>
    /// <param name="seeds">Draws.</param>
    /// <param name="teacherLogits">Per task name, the fine-tuned model's logits (M, K) on the labeled pool, in pool order.</param>
    /// <param name="settings">Training settings (default: the paper's).</param>
    /// <param name="seed">The run's seed: draw r takes its sample from the stream <c>("ftc_eval.shots", r, task)</c> and
    /// its batch order from <c>("ftc_eval.batches", r, task)</c>.</param>
    public FtClassifierEvalProtocol(int shots, int seeds, IReadOnlyDictionary<string, float[]> teacherLogits, FtClassifierSettings? settings = null, ulong seed = 0)
    {
        Seed = seed;
        Shots = shots > 0 ? shots : throw new ArgumentOutOfRangeException(nameof(shots));
        Seeds = seeds > 0 ? seeds : throw new ArgumentOutOfRangeException(nameof(seeds));
        _teacherLogits = teacherLogits ?? throw new ArgumentNullException(nameof(teacherLogits));
        Settings = settings ?? new FtClassifierSettings();
    }

    /// <summary>Examples per class.</summary>
    public int Shots { get; }

    /// <summary>Number of draws.</summary>
    public int Seeds { get; }

    /// <summary>The run's seed the draws derive from.</summary>
    public ulong Seed { get; }

    /// <summary>Training settings.</summary>
    public FtClassifierSettings Settings { get; }

    /// <summary>The shot counts reported by default (1, 5, 10, 20).</summary>
    public static IReadOnlyList<int> DefaultShots { get; } = [1, 5, 10, 20];

    /// <inheritdoc />
    public override string Name => $"ftc{Shots}";

    /// <inheritdoc />
    public override bool UsesLabeledData => true;

    /// <inheritdoc />
    public override ProtocolResult Evaluate(float[] testEmbeddings, TaskDataset test, TaskHead head, float[]? labeledEmbeddings, TaskDataset? labeled)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(head);
        if (labeledEmbeddings is null || labeled is null) throw new ArgumentException($"FT-Classifier evaluation of '{test.Name}' needs a pool to draw its few-shot sample from.");
        if (!_teacherLogits.TryGetValue(test.Name, out var teacher))
            throw new AlignmentDataException(test.Name, $"FT-Classifier evaluation has no teacher logits for this task (has: {string.Join(", ", _teacherLogits.Keys)}).");
        int k = head.ClassCount, e = head.InputSize;
        if (teacher.Length != labeled.Count * k) throw new AlignmentDataException(test.Name, $"teacher logits hold {teacher.Length} values; the pool of {labeled.Count} examples with {k} classes needs {labeled.Count * k}.");
        var runs = new List<ClassificationScores>();
        for (int draw = 0; draw < Seeds; draw++)
        {
            var idx = AlignmentInputs.FewShotIndices(labeled, Shots, RandomStreams.Key(Seed, "ftc_eval.shots", draw, test.Name));
            var z = Gather(labeledEmbeddings, idx, e);                    // (n, E)
            var t = Gather(teacher, idx, k);                              // (n, K)
            var trained = FtClassifierTraining.Train(head, z, t, idx.Length, Settings, RandomStreams.Key(Seed, "ftc_eval.batches", draw, test.Name));
            runs.Add(ClassificationScores.Compute(trained.Probabilities(testEmbeddings, test.Count), test.RequireLabels(), k));
        }
        return ProtocolResult.From(Name, runs);
    }

    private static float[] Gather(ReadOnlySpan<float> rows, IReadOnlyList<int> idx, int width) => Data.Rows.Gather(rows, idx, width);
}
