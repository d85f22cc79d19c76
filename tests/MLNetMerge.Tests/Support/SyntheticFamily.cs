using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Support;

/// <summary>Settings of <see cref="SyntheticFamily"/>.</summary>
internal sealed class SyntheticFamilyOptions
{
    /// <summary>Transformer blocks. Default 4.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Hidden width. Default 64.</summary>
    public int Width { get; init; } = 64;

    /// <summary>MLP width. Default 256.</summary>
    public int MlpWidth { get; init; } = 256;

    /// <summary>Classes per task head. Default 10.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Task names. Default four tasks.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = ["fashion", "digits", "shapes", "strokes"];

    /// <summary>Rank of each task vector's low-rank part. Default 4.</summary>
    public int TaskRank { get; init; } = 4;

    /// <summary>Seed. Default 0.</summary>
    public ulong Seed { get; init; }
}

/// <summary>
/// A small family of checkpoints with Hugging Face ViT tensor names, built in code for the demo and tests until the
/// trained zoo exists: base weights ~ N(0, 0.02) (layer norms at 1 and 0), task vectors = a low-rank part shared in
/// direction with one neighbouring task (so tasks interfere) plus heavy-tailed sparse noise (so signs conflict),
/// and a classifier head per task. Deterministic from the seed.
/// </summary>
internal static class SyntheticFamily
{
    /// <summary>Builds the base and the fine-tuned checkpoints in memory.</summary>
    public static (InMemoryCheckpoint Base, IReadOnlyList<(string Name, InMemoryCheckpoint Model)> Tasks) Build(SyntheticFamilyOptions? options = null)
    {
        options ??= new SyntheticFamilyOptions();
        var shapes = Shapes(options);
        var baseModel = new InMemoryCheckpoint("base.safetensors");
        var baseValues = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
        {
            int n = shape.Aggregate(1, (a, d) => a * d);
            var v = new float[n];
            if (name.EndsWith("layernorm_before.weight") || name.EndsWith("layernorm_after.weight") || name == "layernorm.weight") Array.Fill(v, 1f);
            else if (!name.EndsWith(".bias")) Gaussian(v, 0.02f, RandomStreams.Key(options.Seed, "synthetic.base", 0, name));
            baseValues[name] = v;
            baseModel.Add(name, shape, v);
        }
        baseModel.AddInt64("embeddings.position_ids", [1, 17], Enumerable.Range(0, 17).Select(i => (long)i).ToArray());
        var tasks = new List<(string, InMemoryCheckpoint)>();
        for (int t = 0; t < options.Tasks.Count; t++)
        {
            var model = new InMemoryCheckpoint($"{options.Tasks[t]}.safetensors");
            foreach (var (name, shape) in shapes)
            {
                var tau = TaskVector(options, t, name, shape);
                var v = baseValues[name].ToArray();
                System.Numerics.Tensors.TensorPrimitives.Add(v, tau, v);
                model.Add(name, shape, v);
            }
            model.AddInt64("embeddings.position_ids", [1, 17], Enumerable.Range(0, 17).Select(i => (long)i).ToArray());
            var head = new float[options.Classes * options.Width];
            Gaussian(head, 0.1f, RandomStreams.Key(options.Seed, "synthetic.head", t, "classifier.weight"));
            model.Add("classifier.weight", [options.Classes, options.Width], head);
            model.Add("classifier.bias", [options.Classes], new float[options.Classes]);
            tasks.Add((options.Tasks[t], model));
        }
        return (baseModel, tasks);
    }

    /// <summary>Writes the family as safetensors files into <paramref name="directory"/>; returns the paths.</summary>
    public static (string Base, IReadOnlyList<(string Name, string Path)> Tasks) Write(string directory, SyntheticFamilyOptions? options = null)
    {
        Directory.CreateDirectory(directory);
        var (b, tasks) = Build(options);
        string basePath = Path.Combine(directory, "base.safetensors");
        b.Save(basePath);
        var paths = new List<(string, string)>();
        foreach (var (name, model) in tasks)
        {
            string p = Path.Combine(directory, $"{name}.safetensors");
            model.Save(p);
            paths.Add((name, p));
        }
        return (basePath, paths);
    }

    private static List<(string, int[])> Shapes(SyntheticFamilyOptions o)
    {
        int c = o.Width, f = o.MlpWidth;
        var list = new List<(string, int[])>
        {
            ("embeddings.cls_token", [1, 1, c]),
            ("embeddings.position_embeddings", [1, 17, c]),
            ("embeddings.patch_embeddings.projection.weight", [c, 1, 7, 7]),
            ("embeddings.patch_embeddings.projection.bias", [c]),
        };
        for (int l = 0; l < o.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            foreach (var q in new[] { "attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense" })
            {
                list.Add((p + q + ".weight", [c, c]));
                list.Add((p + q + ".bias", [c]));
            }
            list.Add((p + "intermediate.dense.weight", [f, c]));
            list.Add((p + "intermediate.dense.bias", [f]));
            list.Add((p + "output.dense.weight", [c, f]));
            list.Add((p + "output.dense.bias", [c]));
            list.Add((p + "layernorm_before.weight", [c]));
            list.Add((p + "layernorm_before.bias", [c]));
            list.Add((p + "layernorm_after.weight", [c]));
            list.Add((p + "layernorm_after.bias", [c]));
        }
        list.Add(("layernorm.weight", [c]));
        list.Add(("layernorm.bias", [c]));
        return list;
    }

    private static float[] TaskVector(SyntheticFamilyOptions o, int t, string name, int[] shape)
    {
        int n = shape.Aggregate(1, (a, d) => a * d);
        var tau = new float[n];
        // Heavy-tailed noise: Gaussian × Gaussian (a product has heavier tails), scale ~1e-3.
        var g1 = new float[n];
        var g2 = new float[n];
        Gaussian(g1, 1f, RandomStreams.Key(o.Seed, "synthetic.g1", t, name));
        Gaussian(g2, 1f, RandomStreams.Key(o.Seed, "synthetic.g2", t, name));
        for (int i = 0; i < n; i++) tau[i] = 1e-3f * g1[i] * g2[i];
        if (shape.Length == 2)
        {
            int m = shape[0], k = shape[1];
            // Low-rank part: own factors plus half of the next task's, so neighbouring tasks share directions.
            foreach (var (src, weight) in new[] { (t, 1f), ((t + 1) % o.Tasks.Count, 0.5f) })
            {
                var u = new float[m * o.TaskRank];
                var v = new float[o.TaskRank * k];
                Gaussian(u, 1f, RandomStreams.Key(o.Seed, "synthetic.u", src, name));
                Gaussian(v, 1f, RandomStreams.Key(o.Seed, "synthetic.v", src, name));
                Gemm.Multiply(false, false, m, k, o.TaskRank, weight * 2e-3f / MathF.Sqrt(o.TaskRank), u, o.TaskRank, v, k, 1f, tau, k);
            }
        }
        return tau;
    }

    /// <summary>Fills <paramref name="values"/> with N(0, σ²) draws (Box–Muller over counter-based uniforms).</summary>
    public static void Gaussian(Span<float> values, float sigma, ulong key)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = Math.Max(RandomStreams.Uniform(key, i), 1e-7);
            double u2 = RandomStreams.Uniform(key, i + 1);
            double r = Math.Sqrt(-2 * Math.Log(u1));
            values[i] = (float)(sigma * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(sigma * r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
