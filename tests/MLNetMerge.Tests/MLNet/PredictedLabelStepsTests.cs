using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// Score and PredictedLabel as ML.NET users expect them from an exported model: <see cref="OnnxScoreOutput"/> adds
/// Score = softmax(logits) in the graph, <see cref="PredictedLabelSteps"/> gives a key with the class names; Evaluate
/// on that output equals <see cref="MulticlassEvaluation"/> on arrays, and the steps survive Save/Load.
/// </summary>
[TestClass]
public sealed class PredictedLabelStepsTests
{
    private static readonly string[] Classes = ["zebra", "apple", "mango"]; // not sorted: key order must follow class order

    [TestMethod]
    public void ScoreAndPredictedLabel_FromTheExportedModel_EvaluateLikeTheArrays()
    {
        byte[] onnx = OnnxScoreOutput.AppendSoftmax(MLNetTestModels.TinyVit(out _));
        const int rows = 30, pixels = 3 * 8 * 8;
        float[] x = MLNetTestModels.Uniform(rows * pixels, seed: 21);
        int[] labels = [.. Enumerable.Range(0, rows).Select(i => (i * 7) % 3)];
        var ml = new MLContext(seed: 0);
        var input = new ArrayDataViewBuilder().AddFloatVector("pixel_values", x, pixels).AddText("Name", [.. labels.Select(l => Classes[l])]).Build();
        using var encoder = InMemoryOnnx.Create(ml, onnx, new OnnxScoringSettings { InputColumns = ["pixel_values"], OutputColumns = ["logits", "Score"] });
        var scored = encoder.Transform(input);
        var steps = MulticlassEvaluation.TextLabelsToKeys(ml, "Label", "Name", Classes).Append(PredictedLabelSteps.Create(ml, Classes)).Fit(scored);
        var output = steps.Transform(scored);

        float[] logits = [.. output.GetColumn<float[]>("logits").SelectMany(r => r)];
        float[] score = [.. output.GetColumn<float[]>("Score").SelectMany(r => r)];
        for (int i = 0; i < rows; i++)
        {
            var l = logits.AsSpan(i * 3, 3);
            float max = Math.Max(l[0], Math.Max(l[1], l[2]));
            double z = Math.Exp(l[0] - max) + Math.Exp(l[1] - max) + Math.Exp(l[2] - max);
            for (int c = 0; c < 3; c++) Assert.AreEqual(Math.Exp(l[c] - max) / z, score[i * 3 + c], 1e-6);
        }
        var predicted = output.GetColumn<uint>("PredictedLabel").ToArray();
        for (int i = 0; i < rows; i++)
        {
            var s = score.AsSpan(i * 3, 3);
            int argmax = s[1] > s[0] ? (s[2] > s[1] ? 2 : 1) : (s[2] > s[0] ? 2 : 0);
            Assert.AreEqual((uint)(argmax + 1), predicted[i], $"row {i}");
        }
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        output.Schema["PredictedLabel"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(Classes, keyValues.DenseValues().Select(v => v.ToString()).ToArray());

        var viaSteps = ml.MulticlassClassification.Evaluate(output);
        var viaArrays = MulticlassEvaluation.Evaluate(ml, labels, score, Classes);
        Assert.AreEqual(viaArrays.MicroAccuracy, viaSteps.MicroAccuracy, 1e-12);
        Assert.AreEqual(viaArrays.MacroAccuracy, viaSteps.MacroAccuracy, 1e-12);
        Assert.AreEqual(viaArrays.LogLoss, viaSteps.LogLoss, 1e-9);
        Assert.IsFalse(output.Schema.Any(c => c.Name.StartsWith("predicted_label_", StringComparison.Ordinal)), "intermediates are dropped");

        using var zip = new MemoryStream();
        ml.Model.Save(steps, scored.Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 3);
        fresh.ComponentCatalog.RegisterAssembly(typeof(PredictedLabelSteps).Assembly);
        var reloaded = fresh.Model.Load(zip, out _).Transform(scored);
        CollectionAssert.AreEqual(predicted, reloaded.GetColumn<uint>("PredictedLabel").ToArray());
    }

    [TestMethod]
    public void BadInput_IsAOneLineError()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        var e1 = Assert.ThrowsExactly<ArgumentException>(() => OnnxScoreOutput.AppendSoftmax(onnx, "logit"));
        StringAssert.Contains(e1.Message, "the model has no output 'logit'; its outputs are embedding, logits");
        var e2 = Assert.ThrowsExactly<ArgumentException>(() => OnnxScoreOutput.AppendSoftmax(OnnxScoreOutput.AppendSoftmax(onnx)));
        StringAssert.Contains(e2.Message, "already has a value named 'Score'");
        Assert.ThrowsExactly<ArgumentException>(() => PredictedLabelSteps.Create(new MLContext(0), ["a", "a"]));
    }
}
