using System.Text.Json;

namespace MLNetMerge.Tests.Nn;

/// <summary>The PyTorch reference dumps of tools/make_engine_fixtures.py.</summary>
internal static class EngineReference
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "engine");

    public static InMemoryCheckpoint Weights(string name) => InMemoryCheckpoint.ReadSafetensors(Path.Combine(Dir, name + ".safetensors"));

    public static InMemoryCheckpoint Io(string name) => InMemoryCheckpoint.ReadSafetensors(Path.Combine(Dir, name + ".io.safetensors"));

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
    public static (double Worst, string Name) CheckGradients(InMemoryCheckpoint io, MLNetMerge.Nn.ParameterArena arena, double tolerance)
    {
        double worst = 0; string worstName = "";
        int count = 0;
        foreach (var t in io.Tensors.Where(t => t.Name.StartsWith("grad.", StringComparison.Ordinal)))
        {
            string name = t.Name["grad.".Length..];
            var reference = io.Get(t.Name);
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
