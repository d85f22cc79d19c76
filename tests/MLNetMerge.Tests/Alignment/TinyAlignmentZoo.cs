using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// A tiny family for alignment tests: an MLP encoder 3 → 4 → 2 (config.json written to a temp folder beside the
/// in-memory base checkpoint), two tasks <c>a</c> and <c>b</c> with 2-class heads, seeded weights, and per-task
/// datasets of 12 examples (6 per class). Merged with task arithmetic λ = 0.5.
/// </summary>
internal sealed class TinyAlignmentZoo : IDisposable
{
    public const int Input = 3, Hidden = 4, Width = 2, Classes = 2, Examples = 12;

    public TinyAlignmentZoo(int headWidth = Width, int seed = 3)
    {
        Directory = Path.Combine(Path.GetTempPath(), "mlnm-align-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        ConfigPath = Path.Combine(Directory, "config.json");
        File.WriteAllText(ConfigPath, $"{{\"model_type\": \"mlp\", \"input_size\": {Input}, \"hidden_sizes\": [{Hidden}], \"output_size\": {Width}, \"hidden_act\": \"relu\"}}");
        var rng = new Random(seed);
        float[] R(int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        var baseCk = new InMemoryCheckpoint(Path.Combine(Directory, "base.safetensors"));
        var tasks = new[] { "a", "b" }.Select(n => new InMemoryCheckpoint(Path.Combine(Directory, n + ".safetensors"))).ToArray();
        foreach (var (name, shape) in new[] { ("layers.0.weight", new[] { Hidden, Input }), ("layers.0.bias", new[] { Hidden }),
                     ("layers.1.weight", new[] { Width, Hidden }), ("layers.1.bias", new[] { Width }) })
        {
            int len = shape.Aggregate(1, (x, y) => x * y);
            var theta0 = R(len);
            baseCk.Add(name, shape, theta0);
            foreach (var t in tasks) t.Add(name, shape, theta0.Zip(R(len, 0.5), (x, d) => x + d).ToArray());
        }
        foreach (var t in tasks)
        {
            t.Add("classifier.weight", [Classes, headWidth], R(Classes * headWidth, 2));
            t.Add("classifier.bias", [Classes], R(Classes, 0.5));
        }
        Family = ModelFamily.Create(baseCk, tasks.Select((t, i) => new TaskModel(i == 0 ? "a" : "b", t)).ToList(), new HeadFilter(HeadFilter.DefaultPattern));
        Data = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        foreach (var name in new[] { "a", "b" })
            Data[name] = new TaskDataset(name, R(Examples * Input, 2), [Input], Enumerable.Range(0, Examples).Select(i => i % Classes).ToArray(), ["zero", "one"]);
        Merged = EngineRuns.Merge(Family, new TaskArithmeticOptions { Scale = 0.5 });
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    public ModelFamily Family { get; }

    public Dictionary<string, TaskDataset> Data { get; }

    public MergedModel Merged { get; }

    public MergeInputs Inputs => new(Family, Data);

    public void Dispose()
    {
        Family.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
