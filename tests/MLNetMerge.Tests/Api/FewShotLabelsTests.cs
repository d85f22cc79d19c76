using Microsoft.ML;
using MLNetMerge.Alignment;
using MLNetMerge.Data;

namespace MLNetMerge.Tests.Api;

/// <summary>A few-shot stage in an ML.NET pipeline draws its examples per class with the view's label column, as a
/// recipe's fit does with the zoo's labeled split, so the pipeline and the recipe (and the generated training code of
/// an ML.NET zip) fit the same stage; without a label column it draws without them.</summary>
[TestClass]
public sealed class FewShotLabelsTests
{
    private static float[][] State(AlignedModel model) => [.. model.State.Select(t => t.Values.ToArray())];

    private static bool Same(float[][] a, float[][] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.SequenceEqual(p.Second));

    [TestMethod]
    [DataRow("ft_classifier")]
    [DataRow("aligned_transform")]
    public void FewShotStage_InAPipeline_FitsWhatTheRecipesLabeledFitGives(string name)
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "test");          // Label: the class name (text)
        AlignmentStage stage = name == "ft_classifier"
            ? ml.Merging().FtClassifier(new FtClassifierOptions { ShotsPerClass = 2, Epochs = 1 })
            : ml.Merging().AlignedTransform(new AlignedTransformOptions { ShotsPerClass = 2 });
        var estimator = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Seed = 0 }).Append(stage);
        var (merged, aligned) = estimator.FitModels(test);

        // What a recipe's align: section fits: each task's stored test split, labels kept for the few-shot draw.
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var data = manifest.Tasks.ToDictionary(t => t.Name, t => ZooManifest.LoadSplit(ZooPaths.Vision, t, t.Test), StringComparer.Ordinal);
        var recipeFit = stage.Create(0).Fit(merged, new MergeInputs(family.Family, data));
        Assert.IsTrue(Same(State(recipeFit), State(aligned!)), "the pipeline's few-shot fit differs from the recipe's");

        // Without labels the draw is another (random over all rows), so the fit differs.
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(test).Transform(test);
        Assert.IsFalse(Same(State(estimator.FitModels(unlabeled).Aligned!), State(aligned!)), "the labels did not change the draw");
    }
}
