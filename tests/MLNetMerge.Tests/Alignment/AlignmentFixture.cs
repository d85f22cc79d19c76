using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// A tiny family on disk for the alignment stages: a random-weight encoder (a ViT on 8×8 images, or an MLP) with its
/// config.json, fine-tuned copies θt = θ0 + τt with random task vectors, each with a random K-class head, and random
/// unlabeled inputs per task. Deleted on dispose.
/// </summary>
internal sealed class AlignmentFixture : IDisposable
{
    public const string TinyVitConfig = """{"model_type":"vit","image_size":8,"patch_size":4,"num_channels":1,"hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":16,"hidden_act":"gelu","layer_norm_eps":1e-6,"qkv_bias":true}""";

    private AlignmentFixture(string dir, ModelFamily family, Dictionary<string, TaskDataset> data)
    {
        Directory = dir;
        Family = family;
        Data = data;
    }

    public string Directory { get; }

    public ModelFamily Family { get; }

    public Dictionary<string, TaskDataset> Data { get; }

    public MergeInputs Inputs => new(Family, Data);

    /// <summary>A family of <paramref name="tasks"/> tiny ViTs (8 wide, 2 blocks) with 3-class heads.</summary>
    /// <param name="tasks">Task names.</param>
    /// <param name="tauScale">Scale of the random task vectors.</param>
    /// <param name="examples">Inputs per task.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="headWidth">Width the heads are saved with (8 = right; other values make a bad head).</param>
    public static AlignmentFixture TinyVit(string[] tasks, float tauScale = 0.3f, int examples = 24, int seed = 1, int headWidth = 8)
    {
        var cfg = VisionTransformerConfig.FromJson(JsonDocument.Parse(TinyVitConfig).RootElement);
        var layout = new VisionTransformer(cfg).Parameters.Layout;
        return Build(TinyVitConfig, layout, tasks, tauScale, examples, 64, classes: 3, headWidth, seed);
    }

    /// <summary>Writes the family: base, task checkpoints (encoder tensors + classifier.*), config.json.</summary>
    public static AlignmentFixture Build(string configJson, ParameterLayout layout, string[] tasks, float tauScale, int examples,
        int inputSize, int classes, int headWidth, int seed, Func<string, int, float[]>? taskValues = null, Func<string, float[]>? baseValues = null,
        Func<string, float[]>? inputs = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-align-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), configJson);
        var rng = new Random(seed);
        float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var b = new InMemoryCheckpoint(Path.Combine(dir, "base.safetensors"));
        var theta0 = new Dictionary<string, float[]>();
        foreach (var e in layout.Entries)
        {
            var v = baseValues?.Invoke(e.Name) ?? Enumerable.Range(0, e.Length).Select(_ => e.Name.Contains("norm") && e.Name.EndsWith("weight") ? 1f + 0.1f * Normal() : 0.4f * Normal()).ToArray();
            theta0[e.Name] = v;
            b.Add(e.Name, e.Shape, v);
        }
        b.Save(b.Path);
        var paths = new List<(string, string)>();
        var data = new Dictionary<string, TaskDataset>();
        for (int t = 0; t < tasks.Length; t++)
        {
            string path = Path.Combine(dir, tasks[t] + ".safetensors");
            var c = new InMemoryCheckpoint(path);
            foreach (var e in layout.Entries)
            {
                var v = taskValues?.Invoke(e.Name, t) ?? theta0[e.Name].Select(x => x + tauScale * Normal()).ToArray();
                c.Add(e.Name, e.Shape, v);
            }
            c.Add("classifier.weight", [classes, headWidth], Enumerable.Range(0, classes * headWidth).Select(_ => Normal()).ToArray());
            c.Add("classifier.bias", [classes], Enumerable.Range(0, classes).Select(_ => 0.1f * Normal()).ToArray());
            c.Save(path);
            paths.Add((tasks[t], path));
            var x = inputs?.Invoke(tasks[t]) ?? Enumerable.Range(0, examples * inputSize).Select(_ => Normal()).ToArray();
            data[tasks[t]] = new TaskDataset(tasks[t], x, [x.Length / examples], null, Enumerable.Range(0, classes).Select(k => "c" + k).ToArray());
        }
        var family = ModelFamily.Load(b.Path, paths);
        return new AlignmentFixture(dir, family, data);
    }

    public void Dispose()
    {
        Family.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
