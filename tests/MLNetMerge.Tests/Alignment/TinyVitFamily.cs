using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// A tiny ViT family on disk for alignment tests: 4×4×1 images, patch 2 (4 patches + CLS), width 8, 2 blocks, 2 heads,
/// MLP 16; a seeded random base, fine-tuned models θt = θ0 + 0.1·noise, heads of K classes, and seeded random inputs.
/// </summary>
internal sealed class TinyVitFamily : IDisposable
{
    public const string ConfigJson = """
        {"model_type": "vit", "image_size": 4, "patch_size": 2, "num_channels": 1, "hidden_size": 8, "num_hidden_layers": 2,
         "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "qkv_bias": true}
        """;

    public TinyVitFamily(string[] tasks, int[] classes, int seed = 1, int headWidth = 8)
    {
        Dir = Path.Combine(Path.GetTempPath(), $"tinting-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Dir);
        File.WriteAllText(Path.Combine(Dir, "config.json"), ConfigJson);
        Config = VisionTransformerConfig.FromJson(JsonDocument.Parse(ConfigJson).RootElement);
        var layout = new VisionTransformer(Config).Parameters.Layout;
        var rng = new Random(seed);
        float U(double a) => (float)((rng.NextDouble() * 2 - 1) * a);
        var theta0 = new float[layout.TotalLength];
        foreach (var e in layout.Entries)
            for (int i = 0; i < e.Length; i++)
                theta0[e.Offset + i] = e.Name.Contains("layernorm") && e.Name.EndsWith(".weight", StringComparison.Ordinal) ? 1 + U(0.2) : U(0.5);
        Write("base.safetensors", layout, theta0, null);
        Tasks = tasks;
        for (int t = 0; t < tasks.Length; t++)
        {
            var theta = theta0.Select(v => v + U(0.1)).ToArray();
            var w = Enumerable.Range(0, classes[t] * headWidth).Select(_ => U(1.0)).ToArray();
            var b = Enumerable.Range(0, classes[t]).Select(_ => U(0.2)).ToArray();
            Write(tasks[t] + ".safetensors", layout, theta, (w, b, classes[t], headWidth));
        }
        Family = ModelFamily.Load(Path.Combine(Dir, "base.safetensors"), tasks.Select(n => (n, Path.Combine(Dir, n + ".safetensors"))));
        Classes = classes;
    }

    public string Dir { get; }
    public VisionTransformerConfig Config { get; }
    public string[] Tasks { get; }
    public int[] Classes { get; }
    public ModelFamily Family { get; }

    /// <summary>n seeded random unlabeled images (values in [−1, 1]) for each task.</summary>
    public Dictionary<string, TaskDataset> Data(int n, int seed = 5)
    {
        var rng = new Random(seed);
        var result = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        for (int t = 0; t < Tasks.Length; t++)
        {
            var x = Enumerable.Range(0, n * 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            result[Tasks[t]] = new TaskDataset(Tasks[t], x, [1, 4, 4], null, Enumerable.Range(0, Classes[t]).Select(c => $"c{c}").ToArray());
        }
        return result;
    }

    private void Write(string file, MLNetMerge.Nn.ParameterLayout layout, float[] values, (float[] W, float[] B, int K, int E)? head)
    {
        var entries = layout.Entries.Select(e => new TensorEntry("vit." + e.Name, DType.F32, e.Shape)).ToList();
        if (head is { } h)
        {
            entries.Add(new TensorEntry("classifier.weight", DType.F32, [h.K, h.E]));
            entries.Add(new TensorEntry("classifier.bias", DType.F32, [h.K]));
        }
        using var w = new SafetensorsWriter(Path.Combine(Dir, file), entries);
        foreach (var e in layout.Entries) w.WriteFloat32("vit." + e.Name, values.AsSpan(e.Offset, e.Length));
        if (head is { } hh) { w.WriteFloat32("classifier.weight", hh.W); w.WriteFloat32("classifier.bias", hh.B); }
    }

    public void Dispose()
    {
        Family.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
