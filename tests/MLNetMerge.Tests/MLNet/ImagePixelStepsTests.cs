using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.MLNet;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// PNG files → <c>LoadImages → ResizeImages → ExtractPixels</c> → the exported merged zoo ViT gives the engine's own
/// embeddings and logits on the same pixels: with the zoo's normalisation done by ExtractPixels (offset 127.5, scale
/// 1/127.5), and with ExtractPixels giving [0, 1] and the mean/std done inside the exported graph.
/// </summary>
[TestClass]
public sealed class ImagePixelStepsTests
{
    private const int Count = 12, Side = 28;

    internal static MergedModel MergeZoo(params string[] tasks)
    {
        using var family = ModelFamily.Load(Path.Combine(ZooPaths.Vision, "base.safetensors"),
            [.. tasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors")))]);
        return EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.3 });
    }

    internal static VisionTransformerConfig ZooConfig =>
        VisionTransformerConfig.FromJson(JsonDocument.Parse(File.ReadAllText(Path.Combine(ZooPaths.Vision, "config.json"))).RootElement);

    /// <summary>The engine's batched forward: embeddings (N, 64) and logits (N, K) of <paramref name="task"/> on normalised pixels.</summary>
    internal static (float[] Embedding, float[] Logits) Engine(MergedModel merged, string task, float[] x, int n)
    {
        var encoder = new VisionTransformer(ZooConfig);
        var p = encoder.Parameters;
        for (int i = 0; i < p.Layout.Entries.Count; i++) merged.TensorFor(task, "vit." + p.Layout.Entries[i].Name).CopyTo(p.Value(i));
        float[] embedding = EncoderSession.Embed(encoder, new TaskDataset(task, x, [1, Side, Side], null, ["unused"]));
        var w = merged.HeadFloat32(task, "classifier.weight");
        var head = new TaskHead(w, merged.HeadFloat32(task, "classifier.bias"), w.Length / encoder.EmbeddingSize, encoder.EmbeddingSize);
        return (embedding, head.Logits(embedding, n));
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void PngsThroughMLNetImageSteps_GiveTheEnginesOutputs(bool normalizeInGraph)
    {
        var merged = MergeZoo("fashion", "digits", "fashion_footwear");
        var (pixels, _, _) = ZooImages.Load("fashion", Count);
        string folder = Directory.CreateTempSubdirectory("mlnet-png-").FullName;
        try
        {
            string[] files = ZooImages.WritePngs(folder, pixels);
            var export = new OnnxExportOptions { Architecture = ZooConfig };
            if (normalizeInGraph) export = new OnnxExportOptions { Architecture = ZooConfig, PixelMean = [0.5f], PixelStd = [0.5f] };
            byte[] onnx = MLNetTestModels.ExportTask(merged, "fashion", export);

            var ml = new MLContext(seed: 0);
            var (offset, scale) = normalizeInGraph ? (0f, 1f / 255f) : ImagePixelSteps.OffsetAndScale(0.5f, 0.5f);
            // The user's own "Image" column passes through untouched; the steps' intermediate image column is dropped.
            var input = new ArrayDataViewBuilder().AddText("ImagePath", files).AddText("Image", [.. files.Select((_, i) => $"mine {i}")]).Build();
            var pixelSteps = ImagePixelSteps.Create(ml, "pixel_values", "ImagePath", folder, Side, channels: 1, offset, scale).Fit(input);
            var stepped = pixelSteps.Transform(input);
            CollectionAssert.AreEqual(new[] { "ImagePath", "Image", "pixel_values" }, stepped.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray());
            Assert.AreEqual("mine 1", stepped.GetColumn<string>("Image").ElementAt(1));
            using var encoder = InMemoryOnnx.Create(ml, onnx, new OnnxScoringSettings { InputColumns = ["pixel_values"], OutputColumns = ["embedding", "logits"] });
            var scored = encoder.Transform(pixelSteps.Transform(input));

            float[] extracted = [.. scored.GetColumn<float[]>("pixel_values").SelectMany(r => r)];
            float[] expectedPixels = normalizeInGraph ? [.. pixels.Select(b => b * (1f / 255f))] : ZooImages.Normalized(pixels);
            Assert.IsLessThan(1e-6, OnnxRuntimeDirect.MaxAbsDiff(expectedPixels, extracted), "ExtractPixels did not give the PNG's values");

            var (embedding, logits) = Engine(merged, "fashion", ZooImages.Normalized(pixels), Count);
            double de = OnnxRuntimeDirect.MaxAbsDiff(embedding, [.. scored.GetColumn<float[]>("embedding").SelectMany(r => r)]);
            double dl = OnnxRuntimeDirect.MaxAbsDiff(logits, [.. scored.GetColumn<float[]>("logits").SelectMany(r => r)]);
            Console.WriteLine($"in-graph normalisation {normalizeInGraph}: max |embedding diff| {de:E2}, max |logit diff| {dl:E2}");
            Assert.IsLessThan(1e-4, de);
            Assert.IsLessThan(1e-4, dl);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [TestMethod]
    public void PixelNormalization_IsRefusedWhereItCannotApply()
    {
        var merged = MergeZoo("fashion", "digits");
        var e = Assert.ThrowsExactly<ArgumentException>(() => MLNetTestModels.ExportTask(merged, "fashion",
            new OnnxExportOptions { Architecture = ZooConfig, PixelMean = [0.5f, 0.5f, 0.5f], PixelStd = [0.5f, 0.5f, 0.5f] }));
        StringAssert.Contains(e.Message, "the encoder has 1 channels");
        Assert.ThrowsExactly<ArgumentException>(() => ImagePixelSteps.Create(new MLContext(0), "p", "path", null, 28, channels: 2, 0, 1));
    }
}
