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
/// <c>mlContext.Model.Save</c> of chains built with <c>mlContext.Merging()</c> — a vision chain (PNG → ImagePixels →
/// merge → MapClassNamesToKeys → SdcaMaximumEntropy → MapKeyToValue) and a text chain (TokenizeText → merge →
/// MapKeyToValue) — loaded by <c>MLNetMerge.LoadCheck</c> in a second process (which calls
/// <c>RegisterAssembly</c>): PredictionEngine and Transform give the same bits there as here.
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
    private static JsonElement AssertSameInAFreshProcess(MLContext ml, ITransformer model, DataViewSchema inputSchema, List<InputRow> rows, string folder)
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
        return doc.RootElement.Clone();
    }

    /// <summary>The vision chain of the public API: PNG files → <c>ml.Merging().ImagePixels</c> → task arithmetic of
    /// three zoo tasks serving <c>fashion</c> (its <c>Embedding</c>, <c>Score</c>, <c>PredictedLabel</c>) → the merged
    /// head's outputs copied aside → <c>MapClassNamesToKeys</c> → SdcaMaximumEntropy on the merged embeddings.</summary>
    [TestMethod]
    public void VisionChain_ScoresIdenticallyInAFreshProcess()
    {
        var (pixels, labels, classes) = ZooImages.Load("fashion", 80);
        string folder = Directory.CreateTempSubdirectory("mlnet-fresh-vision-").FullName;
        try
        {
            string[] files = ZooImages.WritePngs(folder, pixels);
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
                [.. new[] { "fashion", "digits", "fashion_footwear" }.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors")))]);
            CollectionAssert.AreEqual(classes.ToArray(), family.ClassNames("fashion").ToArray(), "class names from the zoo manifest");
            const int train = 64;
            var trainView = new ArrayDataViewBuilder().AddText("ImagePath", files[..train]).AddText("Label", [.. labels[..train].Select(l => classes[l])]).Build();

            var pipeline = ml.Merging().ImagePixels(family, "ImagePath", folder, mean: 0.5f, std: 0.5f)
                .Append(ml.Merging().TaskArithmetic(family, scale: 0.3, task: "fashion"))
                .Append(ml.Transforms.CopyColumns("MergedScore", MergeColumns.Score))
                .Append(ml.Transforms.Conversion.MapKeyToValue("MergedLabelName", MergeColumns.PredictedLabel))
                .Append(ml.Merging().MapClassNamesToKeys(family, "fashion", "Label"))
                .Append(ml.Transforms.NormalizeMinMax("Features", MergeColumns.Embedding))
                .AppendCacheCheckpoint(ml)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
                {
                    LabelColumnName = "Label", FeatureColumnName = "Features", NumberOfThreads = 1, MaximumNumberOfIterations = 30,
                }))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelName", "PredictedLabel"));
            var chain = pipeline.Fit(trainView);

            var rows = Enumerable.Range(train, files.Length - train).Select(i => new InputRow { ImagePath = files[i], Label = classes[labels[i]] }).ToList();
            var outputs = AssertSameInAFreshProcess(ml, chain, trainView.Schema, rows, folder);
            // The merged head's label is the arg-max of its probabilities, named by the task's classes.
            foreach (var row in outputs.GetProperty("transform").EnumerateArray())
            {
                var p = row.GetProperty("MergedScore").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                Assert.AreEqual(10, p.Length);
                Assert.AreEqual(1.0, p.Sum(), 1e-5, "Score holds probabilities");
                Assert.AreEqual(classes[Array.IndexOf(p, p.Max())], row.GetProperty("MergedLabelName").GetString());
                Assert.AreEqual(64, row.GetProperty("Embedding").GetArrayLength());
            }
            (chain as IDisposable)?.Dispose();
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>The text chain of the public API: <c>ml.Merging().TokenizeText</c> → TIES of three text-zoo tasks serving
    /// <c>definition_pos</c> → its PredictedLabel mapped to the class name.</summary>
    [TestMethod]
    public void TextChain_ScoresIdenticallyInAFreshProcess()
    {
        string[] tasks = ["noun_supersense", "definition_pos", "fortune_topic"];
        string folder = Directory.CreateTempSubdirectory("mlnet-fresh-text-").FullName;
        try
        {
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Text, "base.safetensors"), [.. tasks.Select(t => (t, Path.Combine(ZooPaths.Text, t + ".safetensors")))]);
            var empty = new ArrayDataViewBuilder().AddText("Text", []).Build();
            var chain = ml.Merging().TokenizeText(family, "Text")
                .Append(ml.Merging().Ties(family, keep: 0.2, scale: 1.0, task: "definition_pos"))
                .Append(ml.Transforms.Conversion.MapKeyToValue("MergedLabelName", MergeColumns.PredictedLabel))
                .Fit(empty);
            var texts = RealText.Glosses().Take(20).Concat(RealText.Fortunes().Take(20)).Append("Café, naïve [MASK] 中文 😀").ToList();
            var outputs = AssertSameInAFreshProcess(ml, chain, empty.Schema, [.. texts.Select(x => new InputRow { Text = x })], folder);
            var classes = family.ClassNames("definition_pos");
            foreach (var row in outputs.GetProperty("transform").EnumerateArray())
            {
                var p = row.GetProperty("Score").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                Assert.AreEqual(1.0, p.Sum(), 1e-5, "Score holds probabilities");
                Assert.AreEqual(classes[Array.IndexOf(p, p.Max())], row.GetProperty("MergedLabelName").GetString());
                Assert.AreEqual(family.SequenceLength, row.GetProperty("input_ids").GetArrayLength());
            }
            (chain as IDisposable)?.Dispose();
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
