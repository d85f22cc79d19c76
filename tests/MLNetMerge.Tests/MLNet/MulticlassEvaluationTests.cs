using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <see cref="MulticlassEvaluation"/>: ML.NET's Evaluate reproduces a hand-worked case, and the three traps are caught:
/// off-by-one key encoding, logits passed as Score, and the key order of text labels.
/// </summary>
[TestClass]
public sealed class MulticlassEvaluationTests
{
    private static readonly string[] Classes = ["A", "B", "C"];

    // The hand-worked case: 8 rows, 3 classes.
    //   row  label  probabilities (A, B, C)   predicted  −ln p(label)
    //   0-2  A      (0.8, 0.1, 0.1)           A          −ln 0.8 = 0.223144 (×3 = 0.669431)
    //   3    B      (0.2, 0.7, 0.1)           B          −ln 0.7 = 0.356675
    //   4    B      (0.1, 0.3, 0.6)           C          −ln 0.3 = 1.203973
    //   5-6  C      (0.2, 0.3, 0.5)           C          −ln 0.5 = 0.693147 (×2 = 1.386294)
    //   7    C      (0.6, 0.3, 0.1)           A          −ln 0.1 = 2.302585
    // micro accuracy = 6/8 = 0.7500; per-class recall A 3/3, B 1/2, C 2/3 → macro = (1 + 0.5 + 0.666667)/3 = 0.7222
    // log-loss = (0.669431 + 0.356675 + 1.203973 + 1.386294 + 2.302585)/8 = 5.918958/8 = 0.739870 → 0.7399
    // prior log-loss (label frequencies 3/8, 2/8, 3/8) = −(2·0.375·ln 0.375 + 0.25·ln 0.25) = 0.735622 + 0.346574 = 1.082196
    // log-loss reduction = (1.082196 − 0.739870)/1.082196 = 0.316325 → 0.3163
    private static readonly int[] Labels = [0, 0, 0, 1, 1, 2, 2, 2];

    private static readonly float[] Probabilities =
    [
        0.8f, 0.1f, 0.1f, 0.8f, 0.1f, 0.1f, 0.8f, 0.1f, 0.1f,
        0.2f, 0.7f, 0.1f, 0.1f, 0.3f, 0.6f,
        0.2f, 0.3f, 0.5f, 0.2f, 0.3f, 0.5f, 0.6f, 0.3f, 0.1f,
    ];

    private static void AssertHandCase(MulticlassClassificationMetrics m)
    {
        Assert.AreEqual(0.7500, m.MicroAccuracy, 5e-5);
        Assert.AreEqual(0.7222, m.MacroAccuracy, 5e-5);
        Assert.AreEqual(0.7399, m.LogLoss, 5e-5);
        Assert.AreEqual(0.3163, m.LogLossReduction, 5e-5);
    }

    [TestMethod]
    public void Evaluate_ReproducesTheHandWorkedCase()
    {
        var m = MulticlassEvaluation.Evaluate(new MLContext(seed: 0), Labels, Probabilities, Classes, topKPredictionCount: 2);
        AssertHandCase(m);
        // Top-2: every row's label is among its two largest probabilities except row 7 (C has 0.1) → 7/8.
        Assert.AreEqual(0.875, m.TopKAccuracy, 1e-12);
        // Confusion matrix rows = true class, columns = predicted: A→A 3; B→B 1, B→C 1; C→A 1, C→C 2.
        var counts = m.ConfusionMatrix.Counts;
        CollectionAssert.AreEqual(new double[] { 3, 0, 0 }, counts[0].ToArray());
        CollectionAssert.AreEqual(new double[] { 0, 1, 1 }, counts[1].ToArray());
        CollectionAssert.AreEqual(new double[] { 1, 0, 2 }, counts[2].ToArray());
    }

    [TestMethod]
    public void Keys_AreIndexPlusOne_AndNameTheRightClass()
    {
        var ml = new MLContext(seed: 0);
        var view = MulticlassEvaluation.ScoredView(Labels, Probabilities, Classes);
        CollectionAssert.AreEqual(Labels.Select(l => (uint)(l + 1)).ToArray(), view.GetColumn<uint>("Label").ToArray());
        var named = ml.Transforms.Conversion.MapKeyToValue("Name", "PredictedLabel").Fit(view).Transform(view);
        CollectionAssert.AreEqual(new[] { "A", "A", "A", "B", "C", "C", "C", "A" }, named.GetColumn<string>("Name").ToArray());
        // 1-based labels (the off-by-one) put class C at index 3: refused in one line, never silently dropped.
        var e = Assert.ThrowsExactly<ArgumentException>(() => MulticlassEvaluation.ScoredView([.. Labels.Select(l => l + 1)], Probabilities, Classes));
        StringAssert.Contains(e.Message, "row 5 has class index 3; expected 0..2");
    }

    [TestMethod]
    public void Logits_AreRefused_BecauseMLNetWouldScoreThemWrong()
    {
        float[] logits = [.. Probabilities.Select(p => MathF.Log(p) + 2f)]; // same argmax, not probabilities
        var e = Assert.ThrowsExactly<ArgumentException>(() => MulticlassEvaluation.Evaluate(new MLContext(0), Labels, logits, Classes));
        StringAssert.Contains(e.Message, "Score must hold probabilities");
        // What ML.NET does with them when nobody checks: accuracy right, log-loss nonsense.
        var raw = new ArrayDataViewBuilder().AddKey("Label", Labels, Classes).AddFloatVector("Score", logits, 3)
            .AddKey("PredictedLabel", [0, 0, 0, 1, 2, 2, 2, 0], Classes).Build();
        var m = new MLContext(0).MulticlassClassification.Evaluate(raw);
        Assert.AreEqual(0.75, m.MicroAccuracy, 1e-12);
        Assert.AreNotEqual(0.7399, m.LogLoss, 0.01);
    }

    [TestMethod]
    public void TextLabels_KeyOrderComesFromTheClassNames_NotFromAppearance()
    {
        var ml = new MLContext(seed: 0);
        // The rows arrive with C first, so ML.NET's default keys would be C=1, A=2, B=3.
        int[] order = [5, 0, 3, 6, 1, 4, 7, 2];
        string[] names = [.. order.Select(i => Classes[Labels[i]])];
        float[] scores = [.. order.SelectMany(i => Probabilities.Skip(i * 3).Take(3))];
        int[] predicted = [.. order.Select(i => Array.IndexOf(Probabilities, Probabilities.Skip(i * 3).Take(3).Max(), i * 3) - i * 3)];
        var input = new ArrayDataViewBuilder().AddText("Name", names).AddFloatVector("Score", scores, 3).AddKey("PredictedLabel", predicted, Classes).Build();

        var fixedOrder = MulticlassEvaluation.TextLabelsToKeys(ml, "Label", "Name", Classes).Fit(input).Transform(input);
        AssertHandCase(ml.MulticlassClassification.Evaluate(fixedOrder));

        var byAppearance = ml.Transforms.Conversion.MapValueToKey("Label", "Name").Fit(input).Transform(input);
        var wrong = ml.MulticlassClassification.Evaluate(byAppearance);
        Assert.AreNotEqual(0.75, wrong.MicroAccuracy, 1e-6, "keys by appearance should not line up with the Score columns");
    }
}
