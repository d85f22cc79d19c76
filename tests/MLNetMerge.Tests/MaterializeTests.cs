using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;
using MLNetMerge.Tests.Support;

namespace MLNetMerge.Tests;

/// <summary>What the executor hands each task: the merged weights for shared methods, the task's own for per-task ones.</summary>
[TestClass]
public sealed class MaterializeTests
{
    private sealed class CapturingSink : IMergeSink, IModulatorWriter
    {
        public readonly Dictionary<string, float[]> Model = new();
        public readonly Dictionary<(string, string), float[]> Tasks = new();

        public void Begin(MergeLayout layout) { }
        public void WriteModel(string name, ReadOnlySpan<float> values) { lock (Model) Model[name] = values.ToArray(); }
        public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) { }
        public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) { }
        public IModulatorWriter Modulators => this;
        public void WriteFloat32(string name, ReadOnlySpan<float> values) { }
        public void WriteBytes(string name, ReadOnlySpan<byte> values) { }
        public void WriteTask(string task, string name, ReadOnlySpan<float> values) { lock (Tasks) Tasks[(task, name)] = values.ToArray(); }
        public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) { }
        public void Complete(MergeSummary summary) { }
    }

    private static ModelFamily Family(int tasks)
    {
        var names = new[] { "a", "b", "c" }.Take(tasks).ToArray();
        var (b, list) = SyntheticFamily.Build(new SyntheticFamilyOptions { Layers = 1, Width = 8, MlpWidth = 16, Classes = 3, Tasks = names, TaskRank = 2 });
        return ModelFamily.Create(b, list.Select(t => new TaskModel(t.Name, t.Model)).ToList(), new HeadFilter("classifier.*"));
    }

    [TestMethod]
    public void SharedMethodsHandEveryTaskTheMergedWeights()
    {
        foreach (var method in MergeMethods.All.Where(m => !m.IsPerTask))
        {
            using var family = Family(Math.Min(method.MaxModels, 3));
            var sink = new CapturingSink();
            var p = new MergeParameters(method, null, family.TaskNames.Select(_ => (IReadOnlyDictionary<string, ParameterValue>?)null).ToList());
            MergeExecutor.Run(family, method, p, sink, new MergeExecutionOptions { Materialize = family.TaskNames });
            foreach (var task in family.TaskNames)
                foreach (var t in family.MergedTensors)
                    CollectionAssert.AreEqual(sink.Model[t.Name], sink.Tasks[(task, t.Name)], $"{method.Name}: task {task}, tensor {t.Name}");
        }
    }

    [TestMethod]
    public void PerTaskMethodsHandTasksDifferentWeights()
    {
        foreach (var method in MergeMethods.All.Where(m => m.IsPerTask))
        {
            using var family = Family(3);
            var sink = new CapturingSink();
            var p = new MergeParameters(method, null, family.TaskNames.Select(_ => (IReadOnlyDictionary<string, ParameterValue>?)null).ToList());
            MergeExecutor.Run(family, method, p, sink, new MergeExecutionOptions { Materialize = family.TaskNames });
            string weight = "encoder.layer.0.intermediate.dense.weight";
            CollectionAssert.AreNotEqual(sink.Tasks[("a", weight)], sink.Tasks[("b", weight)], $"{method.Name}: tasks a and b got the same weights");
        }
    }
}
