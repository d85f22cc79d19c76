using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.Tests.Api;

/// <summary>Rows the merged model cannot score sensibly (a non-finite input, no rows) and a closed family get a typed
/// answer: the missing key for a NaN score, a typed error from <c>Evaluate</c>, <see cref="ObjectDisposedException"/>
/// naming the family.</summary>
[TestClass]
public sealed class BadRowsTests
{
    /// <summary>The fashion test split's first <paramref name="n"/> rows, with one pixel of row <paramref name="nanRow"/> set to NaN (-1: none).</summary>
    private static IDataView Fashion(MLContext ml, int n, int nanRow)
    {
        var data = ZooPaths.VisionTest("fashion", n);
        var x = (float[])data.Features.Clone();
        if (nanRow >= 0) x[nanRow * data.FeatureLength + 100] = float.NaN;
        var keyed = new global::MLNetMerge.MLNet.ArrayDataViewBuilder()
            .AddFloatVector(MergeColumns.PixelValues, x, data.FeatureLength)
            .AddKey("Label", data.RequireLabels(), data.ClassNames).Build();
        return keyed;
    }

    [TestMethod]
    public void ANaNInput_PredictsTheMissingKey_AndEvaluateRefusesItsRow()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        using var model = ml.Merging().TaskArithmetic(family, task: "fashion").Fit(Fashion(ml, 4, -1));
        var scored = model.Transform(Fashion(ml, 4, 2));
        var predicted = scored.GetColumn<uint>(MergeColumns.PredictedLabel).ToArray();
        var scores = scored.GetColumn<float[]>(MergeColumns.Score).ToArray();
        Assert.IsTrue(float.IsNaN(scores[2][0]), "a NaN pixel gives NaN scores");
        Assert.AreEqual(0u, predicted[2], "the missing key, not the first class");
        Assert.IsTrue(predicted.Where((_, i) => i != 2).All(p => p > 0));

        var e = Assert.ThrowsExactly<AlignmentDataException>(() => ml.Merging().Evaluate(model, family, Fashion(ml, 4, 2),
            options: new EvaluationOptions { KnnShots = [], Task = "fashion" }));
        StringAssert.Contains(e.Message, "'Score': row 2 of task 'fashion' has NaN for class 0");
    }

    [TestMethod]
    public void ANaNInput_IsRefusedWhenAStageFits_NamingItsRow()
    {
        // Surgery and Tinting fitted on a NaN row gave NaN scores on every row afterwards (RegMean failed in its Cholesky).
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => ml.Merging().TaskArithmetic(family, task: "fashion")
            .Append(ml.Merging().Surgery(new SurgeryOptions { Steps = 2 })).Fit(Fashion(ml, 4, 2)));
        StringAssert.Contains(e.Message, "row 2 of task 'fashion' has NaN at position 100");
    }

    [TestMethod]
    public void AOneTaskMerge_FitsItsStage_OnItsOwnRowsOfAMixedView()
    {
        // A view with a Task column: the rows of other tasks were taken as the served task's inputs.
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var fashion = ZooPaths.VisionTest("fashion", 6);
        var digits = ZooPaths.VisionTest("digits", 6);
        IDataView View(bool mixed) => new global::MLNetMerge.MLNet.ArrayDataViewBuilder()
            .AddFloatVector(MergeColumns.PixelValues, mixed ? [.. digits.Features, .. fashion.Features] : fashion.Features, fashion.FeatureLength)
            .AddText(MergeColumns.Task, mixed ? [.. Enumerable.Repeat("digits", 6), .. Enumerable.Repeat("fashion", 6)] : [.. Enumerable.Repeat("fashion", 6)])
            .Build();
        var stage = new SurgeryOptions { Steps = 3 };
        float[][] Scores(IDataView fitOn)
        {
            using var model = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Task = "fashion", Seed = 5 }).Append(ml.Merging().Surgery(stage)).Fit(fitOn);
            return model.Transform(View(false)).GetColumn<float[]>(MergeColumns.Score).ToArray();
        }
        var own = Scores(View(false));
        var mixed = Scores(View(true));
        for (int i = 0; i < own.Length; i++) CollectionAssert.AreEqual(own[i], mixed[i], $"row {i}");
        // Without the fashion rows the stage has nothing to fit on.
        var onlyDigits = ml.Data.TakeRows(View(true), 6);
        StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => Scores(onlyDigits)).Message, "the data holds no rows");
    }

    [TestMethod]
    public void EvaluateOnNoRows_IsAnError_NotAnEmptyResult()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        using var model = ml.Merging().TaskArithmetic(family, task: "fashion").Fit(Fashion(ml, 4, -1));
        var none = ml.Data.SkipRows(Fashion(ml, 4, -1), 100);
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => ml.Merging().Evaluate(model, family, none, options: new EvaluationOptions { KnnShots = [], Task = "fashion" }));
        StringAssert.Contains(e.Message, "no rows to evaluate task 'fashion' on");
    }

    [TestMethod]
    public void ADisposedFamily_IsNamedWhenAnEstimatorIsBuiltOnIt()
    {
        var ml = new MLContext(seed: 0);
        var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        family.Dispose();
        var e = Assert.ThrowsExactly<ObjectDisposedException>(() => ml.Merging().Ties(family));
        StringAssert.Contains(e.Message, "base.safetensors was disposed");
    }

    private sealed class NumberRow { public float Text { get; set; } }

    [TestMethod]
    public void TokenizeText_OnAColumnThatIsNotText_NamesTheUsersColumn()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Text);
        var numbers = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1f } });
        var tokenize = ml.Merging().TokenizeText(family, "Text");
        var e = Assert.ThrowsExactly<ArgumentException>(() => tokenize.Fit(numbers));
        StringAssert.Contains(e.Message, "column 'Text' is Single; the tokenizer reads text");
        e = Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().TokenizeText(family, "Sentence").Fit(numbers));
        StringAssert.Contains(e.Message, "the input has no column 'Sentence'");
    }
}
