using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

/// <summary>
/// `profile-ort MODEL.onnx [threads]`: ONNX Runtime's own per-node timings of an engine bench model, summed by operator
/// type: the CLIP ViT-B/32 model (bench/out/engine/clip_b32.onnx, batch 16 images) to set beside `profile-clip`, or the
/// MiniLM-shaped BERT (minilm_shape.onnx, a model with `input_ids`: batch 32 × 64 tokens, 16–64 real ones per row, as
/// `ort bert` feeds it) to set beside `profile-bert` (ours, same shapes).
/// ORT's profiler records each kernel's duration; the figures are those of the fastest of 5 runs after 2 warm-up runs.
/// ORT_PROFILE_NODES=1 also lists every node of the last run. With ORT_CPUID_MASK (bench/engine/run.sh --isa avx2) MLAS
/// runs its AVX2 kernels.
/// </summary>
internal static class OrtProfile
{
    internal static int Run(string path, int threads)
    {
        Console.WriteLine($"onnxruntime: {OrtCpuidMask.Apply()}");
        Console.WriteLine($"ours (not run here): {MLNetMerge.Tensors.KernelIsa.Describe()}");
        const int runs = 7, warm = 2;
        var rng = new Random(4);
        using var options = OrtComparison.OrtOptions(threads);
        // The prefix first: enabling profiling hands ONNX Runtime the prefix set at that moment (set after, the profile
        // went to the working directory under ORT's default name).
        options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "mlnetmerge_ort_profile");
        options.EnableProfiling = true;
        using var session = new InferenceSession(path, options);
        var (names, inputs) = session.InputMetadata.ContainsKey("input_ids") ? TokenInputs(rng, session.InputMetadata.ContainsKey("token_type_ids")) : ImageInputs(rng);
        string[] outputNames = [session.OutputMetadata.ContainsKey("embedding") ? "embedding" : session.OutputMetadata.Keys.First()];
        using var runOptions = new RunOptions();
        for (int r = 0; r < runs; r++)
        {
            using var outputs = session.Run(runOptions, names, inputs, outputNames);
        }
        foreach (var v in inputs) v.Dispose();
        string file = session.EndProfiling();
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        File.Delete(file);
        // Per run: the model_run event's duration, and each node's kernel time by operator type.
        var perRun = new List<Dictionary<string, (double Us, int Count)>>();
        var runUs = new List<double>();
        Dictionary<string, (double Us, int Count)>? current = null;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string cat = e.GetProperty("cat").GetString() ?? "";
            string name = e.GetProperty("name").GetString() ?? "";
            double dur = e.TryGetProperty("dur", out var d) ? d.GetDouble() : 0;
            if (cat == "Session" && name == "model_run") { runUs.Add(dur); current = null; continue; }
            if (cat != "Node" || !name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
            if (current is null) { current = new(); perRun.Add(current); }
            string op = e.GetProperty("args").TryGetProperty("op_name", out var o) ? o.GetString() ?? "?" : "?";
            if (Environment.GetEnvironmentVariable("ORT_PROFILE_NODES") == "1" && perRun.Count == runs) Console.WriteLine($"  node {name} {op} {dur / 1000:F2} ms");
            var (us, count) = current.GetValueOrDefault(op);
            current[op] = (us + dur, count + 1);
        }
        int best = Enumerable.Range(warm, runUs.Count - warm).OrderBy(i => runUs[i]).First();
        var ops = perRun[best];
        double total = runUs[best] / 1000;
        Console.WriteLine($"{"operator (ORT kernel)",-36} {"ms/forward",10} {"nodes",6} {"share",6}");
        foreach (var (op, (us, count)) in ops.OrderByDescending(kv => kv.Value.Us))
            Console.WriteLine($"{op,-36} {us / 1000,10:F1} {count,6} {us / 1000 / total,6:P0}");
        Console.WriteLine($"{"whole run (best of " + (runUs.Count - warm) + ")",-36} {total,10:F1}");
        return 0;
    }

    /// <summary>16 images of 3 × 224 × 224, uniform in [−1, 1).</summary>
    private static (string[] Names, OrtValue[] Values) ImageInputs(Random rng)
    {
        const int batch = 16;
        var images = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < images.Length; i++) images[i] = (float)(rng.NextDouble() * 2 - 1);
        return (["pixel_values"], [OrtValue.CreateTensorValueFromMemory(images, [batch, 3, 224, 224])]);
    }

    /// <summary>32 rows of 64 token ids, each row 16–64 real tokens ([CLS] first) then padding, with its attention mask.</summary>
    private static (string[] Names, OrtValue[] Values) TokenInputs(Random rng, bool tokenTypes)
    {
        const int batch = 32, tokens = 64;
        var ids = new long[batch * tokens];
        var mask = new long[batch * tokens];
        for (int b = 0; b < batch; b++)
        {
            int real = rng.Next(16, tokens + 1);
            for (int t = 0; t < real; t++)
            {
                ids[b * tokens + t] = t == 0 ? 101 : rng.Next(1000, 30000);
                mask[b * tokens + t] = 1;
            }
        }
        if (tokenTypes) // an exported Hugging Face BERT (the real all-MiniLM-L6-v2): one segment, all zeros
            return (["input_ids", "attention_mask", "token_type_ids"],
                [OrtValue.CreateTensorValueFromMemory(ids, [batch, tokens]), OrtValue.CreateTensorValueFromMemory(mask, [batch, tokens]),
                 OrtValue.CreateTensorValueFromMemory(new long[batch * tokens], [batch, tokens])]);
        return (["input_ids", "attention_mask"],
            [OrtValue.CreateTensorValueFromMemory(ids, [batch, tokens]), OrtValue.CreateTensorValueFromMemory(mask, [batch, tokens])]);
    }
}
