using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Nn;

/// <summary>The PyTorch reference dumps of tools/make_engine_fixtures.py.</summary>
internal static class EngineReference
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "engine");

    /// <summary>The weights, through the library's safetensors reader.</summary>
    public static SafetensorsReader Weights(string name) => SafetensorsReader.Open(Path.Combine(Dir, name + ".safetensors"));

    /// <summary>Every float tensor of a checkpoint, by name.</summary>
    public static Dictionary<string, float[]> ReadAll(ICheckpointReader reader)
    {
        var all = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var t in reader.Tensors.Where(t => t.DType.IsFloatingPoint()))
        {
            var v = new float[t.ElementCount];
            reader.ReadFloat32(t, v);
            all[t.Name] = v;
        }
        return all;
    }

    /// <summary>Inputs, outputs, output gradients and grad.* parameter gradients.</summary>
    public static Dictionary<string, float[]> Io(string name)
    {
        using var r = SafetensorsReader.Open(Path.Combine(Dir, name + ".io.safetensors"));
        return ReadAll(r);
    }

    /// <summary>A copy of a checkpoint in memory, optionally renamed/reshaped/filtered per tensor (null drops it).</summary>
    public static InMemoryCheckpoint Copy(ICheckpointReader source, string path, Func<TensorInfo, (string Name, int[] Shape)?>? edit = null)
    {
        var copy = new InMemoryCheckpoint(path);
        foreach (var t in source.Tensors)
        {
            var e = edit is null ? (t.Name, t.Shape) : edit(t);
            if (e is null) continue;
            if (t.DType == MLNetMerge.Tensors.DType.I64)
            {
                var raw = new byte[t.ByteLength];
                source.ReadRaw(t, raw);
                copy.AddRaw(e.Value.Name, e.Value.Shape, t.DType, raw);
                continue;
            }
            var v = new float[t.ElementCount];
            source.ReadFloat32(t, v);
            copy.Add(e.Value.Name, e.Value.Shape, v);
        }
        return copy;
    }

    public static JsonElement Config(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name + ".config.json"))).RootElement;

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.AreEqual(b.Length, a.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    public static double Norm(ReadOnlySpan<float> a)
    {
        double s = 0;
        foreach (float v in a) s += (double)v * v;
        return Math.Sqrt(s);
    }

    /// <summary>‖g − ref‖ / ‖ref‖.</summary>
    public static double RelativeError(ReadOnlySpan<float> g, ReadOnlySpan<float> reference)
    {
        Assert.AreEqual(reference.Length, g.Length);
        double num = 0, den = 0;
        for (int i = 0; i < g.Length; i++) { double d = (double)g[i] - reference[i]; num += d * d; den += (double)reference[i] * reference[i]; }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }

    /// <summary>Checks every grad.* tensor of the dump against the arena; returns the worst relative error and its tensor.</summary>
    public static (double Worst, string Name) CheckGradients(Dictionary<string, float[]> io, MLNetMerge.Nn.ParameterArena arena, double tolerance)
    {
        double worst = 0; string worstName = "";
        int count = 0;
        foreach (var (key, reference) in io.Where(kv => kv.Key.StartsWith("grad.", StringComparison.Ordinal)))
        {
            string name = key["grad.".Length..];
            count++;
            if (Norm(reference) < 1e-7)
            {
                // Analytically zero (the key bias: softmax ignores a shift shared by all keys); check it absolutely.
                double norm = Norm(arena.Gradient(name));
                Assert.IsTrue(norm <= 1e-5, $"gradient of {name} should vanish, has norm {norm:E3}");
                continue;
            }
            double rel = RelativeError(arena.Gradient(name), reference);
            Assert.IsTrue(rel <= tolerance, $"gradient of {name}: relative error {rel:E3} > {tolerance:E1}");
            if (rel > worst) { worst = rel; worstName = name; }
        }
        Assert.AreEqual(arena.Layout.Entries.Count, count, "every parameter has a reference gradient");
        return (worst, worstName);
    }
}
