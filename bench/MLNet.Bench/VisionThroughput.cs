using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNetMerge;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.MLNet;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;
using MLNetMerge.Merging;
using Google.Protobuf;

/// <summary>
/// One merged zoo ViT task (28×28×1, width 64, 4 blocks), the same rows through: ML.NET's OnnxTransformer one row at a
/// time (PredictionEngine) and over a view (Transform), the engine's batched forward + head, and ONNX Runtime batched
/// on an OrtValue over the array. Rows per second, and each as a ratio of ONNX Runtime batched.
/// </summary>
internal static class VisionThroughput
{
    private sealed class PixelRow
    {
        [ColumnName("pixel_values"), VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    private sealed class ScoreRow
    {
        [ColumnName("Score")] public float[] Score { get; set; } = [];
    }

    public static void Run(string zoo, int rows, int batch)
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(zoo);
        var test = ZooManifest.LoadSplit(zoo, ZooManifest.Load(zoo).Tasks.First(t => t.Name == "fashion"), ZooManifest.Load(zoo).Tasks.First(t => t.Name == "fashion").Test);
        var x = new float[rows * 784];                                    // (N, 784): the test split repeated
        for (int i = 0; i < rows; i++) test.Example(i % test.Count).CopyTo(x.AsSpan(i * 784, 784));
        double sink = 0;

        // The library's path: a task-arithmetic merge fitted as ML.NET components (OnnxTransformer + PredictedLabel steps).
        var view = new ArrayDataViewBuilder().AddFloatVector("pixel_values", x, 784).Build();
        var transformer = ml.Merging().TaskArithmetic(family, scale: 0.3, task: "fashion").Fit(view);
        var engine = ml.Model.CreatePredictionEngine<PixelRow, ScoreRow>(transformer);
        var inputs = Enumerable.Range(0, rows).Select(i => new PixelRow { Pixels = x.AsSpan(i * 784, 784).ToArray() }).ToArray();
        double pe = Timing.RowsPerSecond(rows, () => { foreach (var r in inputs) sink += engine.Predict(r).Score[0]; });

        double transform = Timing.RowsPerSecond(rows, () =>
        {
            var scored = transformer.Transform(view);
            using var cursor = scored.GetRowCursor([scored.Schema["Score"]]);
            var get = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
            VBuffer<float> scores = default;
            while (cursor.MoveNext()) { get(ref scores); sink += scores.GetValues()[0]; }
        });

        // The same merge in the engine, and its graph for ONNX Runtime directly.
        var merged = MergeExecutor.RunInMemory(family.Family, "task_arithmetic", new Dictionary<string, ParameterValue> { ["scale"] = new ParameterValue.Scalar(0.3) });
        byte[] onnx = TaskGraphs.Build(merged, null, ["fashion"], new OnnxExportOptions())[0].Model.ToByteArray();
        var config = VisionTransformerConfig.FromJson(JsonDocument.Parse(File.ReadAllText(Path.Combine(zoo, "config.json"))).RootElement);

        var encoder = new VisionTransformer(config);
        var p = encoder.Parameters;
        for (int i = 0; i < p.Layout.Entries.Count; i++) merged.TensorFor("fashion", "vit." + p.Layout.Entries[i].Name).CopyTo(p.Value(i));
        var w = merged.HeadFloat32("fashion", "classifier.weight");
        var head = new TaskHead(w, merged.HeadFloat32("fashion", "classifier.bias"), w.Length / encoder.EmbeddingSize, encoder.EmbeddingSize);
        var data = new TaskDataset("fashion", x, [1, 28, 28], null, test.ClassNames);
        double batched = Timing.RowsPerSecond(rows, () => sink += head.Logits(EncoderSession.Embed(encoder, data), rows)[0]);

        using var session = new InferenceSession(onnx);
        string logits = TaskGraph.LogitsOutput("fashion");
        double ort = Timing.RowsPerSecond(rows, () =>
        {
            for (int start = 0; start < rows; start += batch)
            {
                int b = Math.Min(batch, rows - start);
                using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, x.AsMemory(start * 784, b * 784), [b, 1, 28, 28]);
                using var results = session.Run(new RunOptions(), ["pixel_values"], [input], [logits]);
                sink += results[0].GetTensorDataAsSpan<float>()[0];
            }
        });

        Console.WriteLine($"vision: merged zoo ViT (fashion head), {rows} rows; batches of {EncoderSession.BatchSize} (engine) and {batch} (ONNX Runtime) (checksum {sink:E3})");
        Print("ML.NET PredictionEngine (merge chain: ONNX + Score + PredictedLabel, row by row)", pe, ort);
        Print("ML.NET Transform over an ArrayDataView", transform, ort);
        Print($"engine batched forward + head (EncoderSession, {EncoderSession.BatchSize})", batched, ort);
        Print($"ONNX Runtime batched ({batch} rows per Run)", ort, ort);
    }

    internal static void Print(string what, double rowsPerSecond, double reference, string referenceName = "ORT batched") =>
        Console.WriteLine($"  {what,-58} {rowsPerSecond,12:N0} rows/s  {rowsPerSecond / reference,7:F3}x {referenceName}");
}
