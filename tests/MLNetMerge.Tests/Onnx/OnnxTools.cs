using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// Runs the external ONNX checks of tools/onnx-check on a directory of models: Debian's python3-onnx checker
/// (check_models.py) and onnxruntime-node (check.mjs) against expected outputs written by <see cref="Cases"/>.
/// Installed by <c>tools/ci-deps.sh onnx</c>.
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

    /// <summary>Runs the python checker and onnxruntime-node on <paramref name="dir"/>; fails the test with their output.</summary>
    public static string CheckAll(string dir)
    {
        var (pc, po) = Run("python3", $"tools/onnx-check/check_models.py \"{dir}\"", new Dictionary<string, string> { ["PYENV_VERSION"] = "system" });
        Console.WriteLine(po);
        Assert.AreEqual(0, pc, "onnx.checker: " + po);
        Assert.IsTrue(Directory.Exists(Path.Combine(RepoRoot, "tools", "onnx-check", "node_modules", "onnxruntime-node")),
            "onnxruntime-node is not installed: run tools/ci-deps.sh onnx");
        var (nc, no) = Run("node", $"tools/onnx-check/check.mjs \"{dir}\"");
        Console.WriteLine(no);
        Assert.AreEqual(0, nc, "onnxruntime-node: " + no);
        return po + no;
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
