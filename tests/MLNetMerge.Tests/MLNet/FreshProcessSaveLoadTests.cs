using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using MLNetMerge.LoadCheck;
using MLNetMerge.MLNet;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <c>mlContext.Model.Save</c> of a vision chain (PNG → image steps → exported merged ViT → MapValueToKey →
/// SdcaMaximumEntropy → MapKeyToValue) and a text chain (savable WordPiece → exported merged BERT), loaded by
/// <c>MLNetMerge.LoadCheck</c> in a second process: PredictionEngine and Transform give the same bits there as here.
/// </summary>
[TestClass]
public sealed class FreshProcessSaveLoadTests
{
    private static string LoadCheckDll()
    {
        string root = Path.GetFullPath(Path.Combine(ZooPaths.Vision, "..", "..", ".."));
#if DEBUG
        const string config = "Debug";
#else
        const string config = "Release";
#endif
        string dll = Path.Combine(root, "tests", "MLNetMerge.LoadCheck", "bin", config, "net10.0", "MLNetMerge.LoadCheck.dll");
        Assert.IsTrue(File.Exists(dll), $"LoadCheck is not built at {dll} (the test project references it, so building the tests builds it)");
        return dll;
    }

    /// <summary>Saves <paramref name="model"/>, scores <paramref name="rows"/> here and in LoadCheck, and asserts equal JSON.</summary>
    private static void AssertSameInAFreshProcess(MLContext ml, ITransformer model, DataViewSchema inputSchema, List<InputRow> rows, string folder)
    {
        string zip = Path.Combine(folder, "model.zip"), rowsPath = Path.Combine(folder, "rows.json"), outPath = Path.Combine(folder, "out.json");
        ml.Model.Save(model, inputSchema, zip);
        File.WriteAllText(rowsPath, JsonSerializer.Serialize(rows));
        string here = ModelScoring.Score(ml, model, rows);

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { LoadCheckDll(), zip, rowsPath, outPath }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.IsTrue(p.WaitForExit(180_000), "LoadCheck did not finish in 3 minutes");
        Assert.AreEqual(0, p.ExitCode, stdout + stderr.Result);
        string there = File.ReadAllText(outPath);

        using var doc = JsonDocument.Parse(here);
        foreach (var path in doc.RootElement.EnumerateObject())
            Assert.AreEqual(rows.Count, path.Value.GetArrayLength(), path.Name);
        Assert.AreEqual(here, there, "the fresh process scored differently");
        Assert.AreEqual(doc.RootElement.GetProperty("transform").GetRawText(), doc.RootElement.GetProperty("predictionEngine").GetRawText(),
            "PredictionEngine and Transform disagree");
        Console.WriteLine($"{rows.Count} rows, {new FileInfo(zip).Length} byte zip: identical in the fresh process ({string.Join(", ", doc.RootElement.GetProperty("transform")[0].EnumerateObject().Select(c => c.Name))})");
    }

    [TestMethod]
    public void VisionChain_ScoresIdenticallyInAFreshProcess()
    {
        var merged = ImagePixelStepsTests.MergeZoo("fashion", "digits", "fashion_footwear");
        var config = ImagePixelStepsTests.ZooConfig;
        byte[] onnx = MLNetTestModels.ExportTask(merged, "fashion", new OnnxExportOptions { Architecture = config, PixelMean = [0.5f], PixelStd = [0.5f] });
        var (pixels, labels, classes) = ZooImages.Load("fashion", 80);
        string folder = Directory.CreateTempSubdirectory("mlnet-fresh-vision-").FullName;
        try
        {
            string[] files = ZooImages.WritePngs(folder, pixels);
            var ml = new MLContext(seed: 0);
            const int train = 64;
            var trainView = new ArrayDataViewBuilder().AddText("ImagePath", files[..train]).AddText("Label", [.. labels[..train].Select(l => classes[l])]).Build();

            var images = ImagePixelSteps.Create(ml, "pixel_values", "ImagePath", folder, config.ImageSize, config.NumChannels, 0f, 1f / 255f).Fit(trainView);
            var encoder = InMemoryOnnx.Create(ml, onnx, new OnnxScoringSettings { InputColumns = ["pixel_values"], OutputColumns = ["embedding", "logits"] });
            var embedded = encoder.Transform(images.Transform(trainView));
            var head = MulticlassEvaluation.TextLabelsToKeys(ml, "Label", "Label", classes)
                .Append(ml.Transforms.NormalizeMinMax("embedding"))
                .AppendCacheCheckpoint(ml)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
                {
                    LabelColumnName = "Label", FeatureColumnName = "embedding", NumberOfThreads = 1, MaximumNumberOfIterations = 30,
                }))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelName", "PredictedLabel"))
                .Fit(embedded);
            var chain = images.Append<ITransformer>(encoder).Append(head);

            var rows = Enumerable.Range(train, files.Length - train).Select(i => new InputRow { ImagePath = files[i], Label = classes[labels[i]] }).ToList();
            AssertSameInAFreshProcess(ml, chain, trainView.Schema, rows, folder);
            encoder.Dispose();
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [TestMethod]
    public void TextChain_ScoresIdenticallyInAFreshProcess()
    {
        var config = TextEncoderConfig.FromJson(JsonDocument.Parse(File.ReadAllText(Path.Combine(ZooPaths.Text, "config.json"))).RootElement);
        var ctx = new MergeContext(seed: 0);
        string[] tasks = ["noun_supersense", "definition_pos", "fortune_topic"];
        using var family = ctx.Model.LoadFamily(Path.Combine(ZooPaths.Text, "base.safetensors"), [.. tasks.Select(t => (t, Path.Combine(ZooPaths.Text, t + ".safetensors")))]);
        var merged = ctx.Merging.Ties(0.2, 1.0).Fit(family);
        byte[] onnx = MLNetTestModels.ExportTask(merged, "definition_pos", new OnnxExportOptions { Architecture = config });
        const int t = 32;
        string folder = Directory.CreateTempSubdirectory("mlnet-fresh-text-").FullName;
        try
        {
            var ml = new MLContext(seed: 0);
            var empty = new ArrayDataViewBuilder().AddText("Text", []).Build();
            var tokenize = SavableWordPiece.Create(ml, File.ReadAllLines(Path.Combine(ZooPaths.Text, "vocab.txt")), "Text", t).Fit(empty);
            var encoder = InMemoryOnnx.Create(ml, onnx, new OnnxScoringSettings
            {
                InputColumns = ["input_ids", "attention_mask"], OutputColumns = ["embedding", "logits"], ShapeDictionary = SavableWordPiece.ShapeDictionary(t),
            });
            var chain = tokenize.Append<ITransformer>(encoder);
            var texts = RealText.Glosses().Take(20).Concat(RealText.Fortunes().Take(20)).Append("Café, naïve [MASK] 中文 😀").ToList();
            AssertSameInAFreshProcess(ml, chain, empty.Schema, [.. texts.Select(x => new InputRow { Text = x })], folder);
            encoder.Dispose();
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
