using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Recipes;
using MLNetMerge.Evaluation;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Zoo-scale alignment runs (slow, kept out of CI): the committed align recipes evaluate end to end.</summary>
[TestClass]
public sealed class AlignmentZooTests
{
    [TestMethod]
    [TestCategory("slow")]
    public void TaskArithmeticWithEveryHeadStage_ProducesTheTable()
    {
        var recipe = MergeRecipe.Load(Path.Combine(ZooPaths.Vision, "recipes", "align", "ta_all.yaml"));
        var e = RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.AlignAndEvaluate & ~RecipeSteps.Report }).Evaluation!;
        Assert.AreEqual(14, e.Alignment.Count);
        CollectionAssert.Contains(e.Protocols.ToArray(), "ftc5");
        foreach (var row in e.Alignment)
        {
            Assert.IsTrue(row.Transductive, row.Name);
            var results = row.Evaluation.Results[RecipeEvaluation.AlignedProtocol];
            Assert.AreEqual(8, results.Count, row.Name);
            Assert.AreEqual(row.Stage is IFewShotAlignmentEstimator ? 5 : 1, results["fashion"].Runs.Count, row.Name);
        }
        var json = JsonSerializer.Serialize(RunReport.Entry(e, "ta_all", AlignSection.Read(recipe)));
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.AreEqual(12, root.GetProperty("transforms").EnumerateObject().Count());
        var ftc = root.GetProperty("vision").GetProperty("task_arithmetic+ft_classifier");
        Assert.IsTrue(ftc.GetProperty("transductive").GetBoolean());
        double ece = ftc.GetProperty("ece").GetDouble();
        Assert.IsTrue(ece > 0 && ece < 1, $"ECE {ece}");
        Assert.AreEqual(5, ftc.GetProperty("tasks").GetProperty("digits").GetProperty("aligned").GetProperty("Runs").GetInt32());
    }
}
