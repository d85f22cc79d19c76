using Microsoft.ML;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// An estimator without <c>Seed</c> draws its seed from the <c>MLContext</c> once, when it is made: its fit and the recipe
/// it writes use the same one (the recipe said <c>seed: 0</c> while the fit had drawn another, and the recipe rebuilt
/// another DARE model; found by a docs trial).
/// </summary>
[TestClass]
public sealed class EstimatorSeedTests
{
    [TestMethod]
    public void AnUnsetSeed_IsTheOneTheRecipeWrites()
    {
        var ml = new MLContext(seed: 11);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
            [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors")), ("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors"))]);
        var estimator = ml.Merging().Dare(family, new DareOptions { Drop = 0.5 });
        string folder = Directory.CreateTempSubdirectory("mlnetmerge-seed-").FullName;
        try
        {
            string path = Path.Combine(folder, "r.yaml");
            string yaml = estimator.ToRecipeYaml(folder);
            StringAssert.Contains(yaml, $"seed: {estimator.Seed}");
            Assert.AreNotEqual(0UL, estimator.Seed);
            File.WriteAllText(path, yaml);
            var back = ml.Merging().FromRecipe(path);
            using var backFamily = back.Family;
            var view = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
            var a = estimator.FitModels(view).Merged;
            var b = back.FitModels(view).Merged;
            foreach (var (name, values) in a.Tensors) CollectionAssert.AreEqual(values, b.Tensors[name], name);
            // Appending a stage keeps the seed; a second estimator draws its own.
            Assert.AreEqual(estimator.Seed, estimator.Append(ml.Merging().FtClassifier()).Seed);
            Assert.AreNotEqual(estimator.Seed, ml.Merging().Dare(family, new DareOptions { Drop = 0.5 }).Seed);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
