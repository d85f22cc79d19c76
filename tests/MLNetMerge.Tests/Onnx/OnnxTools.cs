using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// Checks a directory of exported models: Debian's python3-onnx checker (tools/onnx-check/check_models.py, installed by
/// <c>tools/ci-deps.sh onnx</c>), then ONNX Runtime in process against the expected outputs written by <see cref="Cases"/>.
/// </summary>
internal static class OnnxTools
{
    public static string RepoRoot
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "MLNetMerge.sln"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("MLNetMerge.sln not found above the test directory.");
        }
    }

    /// <summary>Runs a command; returns its exit code and combined output.</summary>
    public static (int Code, string Output) Run(string file, string arguments, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    /// <summary>Runs Debian's python3-onnx checker and then every case of <paramref name="dir"/>'s <c>cases.json</c> in ONNX
    /// Runtime 1.32 in this process (Microsoft.ML.OnnxRuntime); fails the test with the per-output differences.</summary>
    public static string CheckAll(string dir)
    {
        var (pc, po) = Run("python3", $"tools/onnx-check/check_models.py \"{dir}\"", new Dictionary<string, string> { ["PYENV_VERSION"] = "system" });
        Console.WriteLine(po);
        Assert.AreEqual(0, pc, "onnx.checker: " + po);
        string report = RunCases(dir, out int failed);
        Console.WriteLine(report);
        Assert.AreEqual(0, failed, "onnxruntime: " + report);
        return po + report;
    }

    /// <summary>Runs the cases of <c>cases.json</c> in ONNX Runtime; one line per case, the number of failed cases out.</summary>
    public static string RunCases(string dir, out int failed)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cases.json")));
        var sb = new System.Text.StringBuilder();
        int passed = 0;
        failed = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            double tolerance = c.TryGetProperty("tolerance", out var t) ? t.GetDouble() : 1e-4;
            string model = c.GetProperty("model").GetString()!;
            using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(dir, model), options);
            var feeds = new List<Microsoft.ML.OnnxRuntime.NamedOnnxValue>();
            foreach (var input in c.GetProperty("inputs").EnumerateObject())
            {
                int[] shape = input.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                byte[] bytes = File.ReadAllBytes(Path.Combine(dir, input.Value.GetProperty("file").GetString()!));
                bool int64 = input.Value.TryGetProperty("dtype", out var dt) && dt.GetString() == "int64";
                feeds.Add(int64
                    ? Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input.Name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape))
                    : Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input.Name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape)));
            }
            using var results = session.Run(feeds);
            bool ok = true;
            var parts = new List<string>();
            foreach (var expected in c.GetProperty("expected").EnumerateObject())
            {
                var got = results.FirstOrDefault(r => r.Name == expected.Name);
                if (got is null) { ok = false; parts.Add($"{expected.Name}: missing"); continue; }
                var tensor = got.AsTensor<float>();
                int[] shape = expected.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                if (!tensor.Dimensions.ToArray().SequenceEqual(shape))
                {
                    ok = false;
                    parts.Add($"{expected.Name}: shape [{string.Join(",", tensor.Dimensions.ToArray())}] != [{string.Join(",", shape)}]");
                    continue;
                }
                var want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, expected.Value.GetProperty("file").GetString()!)));
                var gotValues = tensor.ToArray();
                double maxDiff = 0;
                for (int i = 0; i < want.Length; i++)
                {
                    double d = Math.Abs((double)gotValues[i] - want[i]);
                    if (!(d <= maxDiff)) maxDiff = double.IsNaN(d) ? double.PositiveInfinity : d;
                }
                if (!(maxDiff <= tolerance)) ok = false;
                parts.Add($"{expected.Name} max|diff| {maxDiff:E2}");
            }
            sb.AppendLine($"{(ok ? "ort ok" : "ort FAILED")}: {model}: {string.Join(", ", parts)}");
            if (ok) passed++; else failed++;
        }
        sb.Append($"onnxruntime 1.32 (in process): {passed} passed, {failed} failed");
        return sb.ToString();
    }

    /// <summary>Collects check cases (model, inputs, expected outputs) and writes them as cases.json + raw float32 files.</summary>
    public sealed class Cases(string dir)
    {
        private readonly List<object> _cases = new();
        private int _files;

        public string Tensor(ReadOnlySpan<float> values)
        {
            string name = $"t{_files++}.bin";
            File.WriteAllBytes(Path.Combine(dir, name), MemoryMarshal.AsBytes(values).ToArray());
            return name;
        }

        public void Add(string model, IReadOnlyDictionary<string, (float[] Values, int[] Shape)> inputs,
            IReadOnlyDictionary<string, (float[] Values, int[] Shape)> expected, double tolerance = 1e-4,
            IReadOnlyDictionary<string, (long[] Values, int[] Shape)>? int64Inputs = null)
        {
            object Spec((float[] Values, int[] Shape) t) => new { file = Tensor(t.Values), shape = t.Shape };
            object SpecI((long[] Values, int[] Shape) t)
            {
                string name = $"t{_files++}.bin";
                File.WriteAllBytes(Path.Combine(dir, name), MemoryMarshal.AsBytes(t.Values.AsSpan()).ToArray());
                return new { file = name, shape = t.Shape, dtype = "int64" };
            }
            _cases.Add(new
            {
                model, tolerance,
                inputs = inputs.ToDictionary(kv => kv.Key, kv => Spec(kv.Value))
                    .Concat((int64Inputs ?? new Dictionary<string, (long[], int[])>()).ToDictionary(kv => kv.Key, kv => SpecI(kv.Value)))
                    .ToDictionary(kv => kv.Key, kv => kv.Value),
                expected = expected.ToDictionary(kv => kv.Key, kv => Spec(kv.Value)),
            });
        }

        public void Save() => File.WriteAllText(Path.Combine(dir, "cases.json"), JsonSerializer.Serialize(_cases));
    }
}
