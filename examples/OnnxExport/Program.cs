// ONNX export and a scoring check: merge with TIES, export one {task}.onnx per task (pixel_values → embedding, logits),
// then check the exported files score like the library: in ONNX Runtime (tools/onnx-check, onnxruntime-node) when it
// is installed, and always by running the library's own ViT forward on the weights read back from the .onnx files.
//   dotnet run --project examples/OnnxExport [-- path/to/data/zoo/vision]
using System.Diagnostics;
using System.Text.Json;
using MLNetMerge;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Export;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ctx = new MergeContext(seed: 0);
string[] tasks = ["fashion", "digits", "fashion_footwear"];
using var family = ctx.Model.LoadFamily(Path.Combine(zoo, "base.safetensors"),
    tasks.Select(t => (t, Path.Combine(zoo, t + ".safetensors"))).ToArray());
var model = ctx.Merging.Ties(keep: 0.2, scale: 1.0).Fit(new MergeInputs(family));

string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-example-onnx");
var files = ctx.Model.ConvertToOnnx(model, dir, new OnnxExportOptions { PerTask = true, Overwrite = true });
Console.WriteLine($"exported {string.Join(", ", files)} to {dir}");

const int n = 16;
var config = VisionTransformerConfig.FromJson(JsonDocument.Parse(File.ReadAllText(Path.Combine(zoo, "config.json"))).RootElement);
var cases = new List<object>();
double worst = 0;
foreach (var task in tasks)
{
    var data = ctx.Data.Take(ctx.Data.LoadZooSplit(zoo, task, "test"), n);
    var expected = model.Transform(task, data);                                   // the library's pipeline: (N, K) logits

    // Library forward on the weights stored in the exported file.
    using var onnx = OnnxCheckpointReader.Open(Path.Combine(dir, task + ".onnx"));
    float[] Read(string name)
    {
        var info = onnx.Tensors.Single(t => t.Name == name);
        var values = new float[info.ElementCount];
        onnx.ReadFloat32(info, values);
        return values;
    }
    var encoder = new VisionTransformer(config);
    for (int i = 0; i < encoder.Parameters.Layout.Entries.Count; i++) Read(encoder.Parameters.Layout.Entries[i].Name).CopyTo(encoder.Parameters.Value(i));
    var head = new TaskHead(Read("classifier.weight"), Read("classifier.bias"), expected.ClassCount, expected.EmbeddingSize);
    var logits = head.Logits(EncoderInference.Embed(encoder, data.Features, n), n);
    double diff = logits.Zip(expected.Logits, (a, b) => Math.Abs(a - b)).Max();
    worst = Math.Max(worst, diff);
    int agree = Enumerable.Range(0, n).Count(i => ArgMax(logits, i, expected.ClassCount) == expected.PredictedLabels[i]);
    Console.WriteLine($"  {task,-18} weights read back from {task}.onnx: max |logit diff| {diff:E2}, {agree}/{n} labels agree");

    // Inputs and expected outputs for ONNX Runtime.
    File.WriteAllBytes(Path.Combine(dir, task + ".x.bin"), Bytes(data.Features));
    File.WriteAllBytes(Path.Combine(dir, task + ".logits.bin"), Bytes(expected.Logits));
    cases.Add(new Dictionary<string, object>
    {
        ["model"] = task + ".onnx", ["tolerance"] = 1e-3,
        ["inputs"] = new Dictionary<string, object> { ["pixel_values"] = new { file = task + ".x.bin", shape = new[] { n, 1, 28, 28 } } },
        ["expected"] = new Dictionary<string, object> { ["logits"] = new { file = task + ".logits.bin", shape = new[] { n, expected.ClassCount } } },
    });
}
File.WriteAllText(Path.Combine(dir, "cases.json"), JsonSerializer.Serialize(cases));
if (worst > 1e-3) { Console.WriteLine($"FAILED: exported weights score differently (max diff {worst:E2})"); return 1; }

string? checker = FindUp(Path.Combine("tools", "onnx-check", "check.mjs"));
if (checker is not null && Directory.Exists(Path.Combine(Path.GetDirectoryName(checker)!, "node_modules", "onnxruntime-node")))
{
    var run = Process.Start(new ProcessStartInfo("node", [checker, dir]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    string output = run.StandardOutput.ReadToEnd() + run.StandardError.ReadToEnd();
    run.WaitForExit();
    Console.Write(output);
    Console.WriteLine(run.ExitCode == 0 ? "ONNX Runtime: the exported graphs match the library" : "FAILED: ONNX Runtime disagrees");
    return run.ExitCode == 0 ? 0 : 1;
}
Console.WriteLine("ONNX Runtime check skipped: tools/onnx-check/node_modules/onnxruntime-node is not installed (bash tools/ci-deps.sh onnx)");
return 0;

static int ArgMax(float[] rows, int i, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++) if (rows[i * k + c] > rows[i * k + best]) best = c;
    return best;
}

static byte[] Bytes(float[] values)
{
    var bytes = new byte[values.Length * sizeof(float)];
    Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
    return bytes;
}

static string? FindUp(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
    return null;
}

static string FindZoo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", "vision");
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException("data/zoo/vision not found; pass the zoo folder as the first argument.");
}
