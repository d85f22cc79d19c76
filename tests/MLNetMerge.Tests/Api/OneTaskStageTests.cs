using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Alignment;

namespace MLNetMerge.Tests.Api;

/// <summary>A transformer serving one task (<see cref="MergeOptions.Task"/>) fits the stages that work per task on that
/// task's rows, and refuses, when appended, the stages that merge again from every task's data.</summary>
[TestClass]
public sealed class OneTaskStageTests
{
    [TestMethod]
    public void EveryStage_FitsForOneTask_OrIsRefusedWhenItMergesEveryTask()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var digits = ml.Merging().LoadZooData(ZooPaths.Vision, "digits", "test");
        var stages = new AlignmentStage[]
        {
            ml.Merging().FtClassifier(new FtClassifierOptions { ShotsPerClass = 2, Epochs = 1 }),
            ml.Merging().AlignedTransform(),
            ml.Merging().Surgery(new SurgeryOptions { Rank = 2, Steps = 5 }),
            ml.Merging().AdaMerging(new AdaMergingOptions { Steps = 1 }),
            ml.Merging().CartPlusPlus(new CartPlusPlusOptions { Steps = 1 }),
            ml.Merging().RegMean(),
            ml.Merging().Fisher(new FisherOptions { Samples = 4 }),
            ml.Merging().TrustRegion(new TrustRegionOptions { Samples = 4 }),
            ml.Merging().Tinting(new TintingOptions { Rounds = 1 }),
            ml.Merging().Tinting(new TintingOptions { Rounds = 1, PlusPlus = true }),
        };
        CollectionAssert.AreEquivalent(AlignmentMethods.All.Select(m => m.Name).ToList(), stages.Select(s => s.Name).ToList(), "every registered stage once");
        foreach (var stage in stages)
        {
            var merge = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Task = "digits", Seed = 1 });
            if (AlignmentMethods.Find(stage.Name).MergesEveryTask)
            {
                var e = Assert.ThrowsExactly<ArgumentException>(() => merge.Append(stage), stage.Name);
                StringAssert.Contains(e.Message, $"'{stage.Name}' merges the task vectors again from every task's data");
                continue;
            }
            var scored = merge.Append(stage).Fit(digits).Transform(digits);
            var scores = scored.GetColumn<float[]>(MergeColumns.Score).Take(3).ToArray();
            Assert.HasCount(3, scores, stage.Name);
            Assert.AreEqual(1.0, scores[0].Sum(), 1e-4, stage.Name);
        }
    }

    [TestMethod]
    public void ARecipeWrittenFromAOneTaskEstimator_ReadsBackForThatTask_AndScoresTheSame()
    {
        var ml = new MLContext(seed: 5);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var digits = ml.Merging().LoadZooData(ZooPaths.Vision, "digits", "test");
        var estimator = ml.Merging().Dare(family, new DareOptions { Drop = 0.5, Task = "digits", Seed = 3 });
        string dir = Directory.CreateTempSubdirectory("mlnm-onetask-recipe-").FullName;
        try
        {
            string path = Path.Combine(dir, "recipe.yaml");
            File.WriteAllText(path, estimator.ToRecipeYaml(dir));
            var back = ml.Merging().FromRecipe(path, task: "digits");
            CollectionAssert.AreEqual(new[] { "digits" }, back.Tasks.ToArray());
            CollectionAssert.AreEqual(new[] { "fashion", "digits", "fashion_tops", "fashion_footwear", "digits_inverted", "fashion_rot90", "digits_parity", "fashion_inverted" },
                ml.Merging().FromRecipe(path).Tasks.ToArray(), "without a task: every task");
            float[][] Scores(MergeEstimator e)
            {
                using var model = e.Fit(digits);
                return [.. model.Transform(digits).GetColumn<float[]>(MergeColumns.Score).Take(20)];
            }
            var a = Scores(estimator);
            var b = Scores(back);
            Assert.IsTrue(a.Zip(b).All(p => p.First.SequenceEqual(p.Second)), "the recipe's estimator scores otherwise");
            back.Family.Dispose();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
