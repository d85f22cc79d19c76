using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;

namespace MLNetMerge.Merging;

/// <summary>Per-task weight diagnostics of a merge (EMR paper, Fig. 5), over the merged tensors.</summary>
/// <param name="Task">Task name.</param>
/// <param name="SignConflictShare">Among elements where both the task's merged delta <c>θ̂t − θ0</c> and <c>τt</c> are non-zero, the share with opposite signs.</param>
/// <param name="L2Distance"><c>‖θ̂t − θt‖₂</c> over the merged tensors.</param>
/// <param name="Cosine">Cosine similarity of <c>θ̂t − θ0</c> and <c>τt</c>.</param>
internal sealed record TaskDiagnostics(string Task, double SignConflictShare, double L2Distance, double Cosine);

/// <summary>Computes <see cref="TaskDiagnostics"/> by streaming a merge: each task's weights θ̂t (its own for per-task methods, else the merged ones) are compared with θt as they are produced; nothing is stored.</summary>
internal static class MergeDiagnostics
{
    /// <summary>Runs the merge and returns one row per task.</summary>
    public static IReadOnlyList<TaskDiagnostics> Compute(ModelFamily family, MergeMethod method, MergeParameters parameters,
        MergeExecutionOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new MergeExecutionOptions();
        var sink = new DiagnosticsSink(family);
        MergeExecutor.Run(family, method, parameters, sink, new MergeExecutionOptions
        {
            MaxThreads = options.MaxThreads, AllowNonFinite = options.AllowNonFinite, Seed = options.Seed, Materialize = family.TaskNames,
        }, progress, cancellationToken);
        return sink.Rows();
    }

    private sealed class DiagnosticsSink(ModelFamily family) : IMergeSink, IModulatorWriter
    {
        // Per (task, tensor): conflicts, both-non-zero count, Σ(θ̂−θ)², Σ d·τ, Σ d², Σ τ² — reduced in plan order for determinism.
        private readonly Dictionary<(string, string), double[]> _partials = new();
        private readonly object _gate = new();

        public void Begin(MergeLayout layout) { }

        public void WriteModel(string name, ReadOnlySpan<float> values) { }

        public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) { }

        public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) { }

        public IModulatorWriter Modulators => this;

        public void WriteFloat32(string name, ReadOnlySpan<float> values) { }

        public void WriteBytes(string name, ReadOnlySpan<byte> values) { }

        public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) { }

        public void WriteTask(string task, string name, ReadOnlySpan<float> values)
        {
            family.Base.TryGetTensor(name, out var info);
            var theta0 = new float[values.Length];
            var thetaT = new float[values.Length];
            family.Base.ReadFloat32(info, theta0);
            var reader = family.Tasks.First(t => t.Name == task).Reader;
            reader.TryGetTensor(name, out var ti);
            reader.ReadFloat32(ti, thetaT);
            var acc = new double[6];
            for (int i = 0; i < values.Length; i++)
            {
                double d = (double)values[i] - theta0[i];
                double tau = (double)thetaT[i] - theta0[i];
                if (d != 0 && tau != 0)
                {
                    acc[1]++;
                    if (d * tau < 0) acc[0]++;
                }
                double e = (double)values[i] - thetaT[i];
                acc[2] += e * e;
                acc[3] += d * tau;
                acc[4] += d * d;
                acc[5] += tau * tau;
            }
            lock (_gate) _partials[(task, name)] = acc;
        }

        public void Complete(MergeSummary summary) { }

        public IReadOnlyList<TaskDiagnostics> Rows()
        {
            var rows = new List<TaskDiagnostics>();
            foreach (var task in family.TaskNames)
            {
                var total = new double[6];
                foreach (var t in family.MergedTensors)
                {
                    var p = _partials[(task, t.Name)];
                    for (int j = 0; j < 6; j++) total[j] += p[j];
                }
                double cos = total[4] == 0 || total[5] == 0 ? 0 : total[3] / Math.Sqrt(total[4] * total[5]);
                rows.Add(new TaskDiagnostics(task, total[1] == 0 ? 0 : total[0] / total[1], Math.Sqrt(total[2]), cos));
            }
            return rows;
        }
    }
}
