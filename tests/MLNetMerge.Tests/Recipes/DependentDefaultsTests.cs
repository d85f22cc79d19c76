using MLNetMerge.Checkpoints;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Recipes;

/// <summary>Defaults that depend on another setting (TIES's λ with <c>merge: sum</c>, TATR's with <c>merge: ties</c>,
/// DARE's and EMR's with their <c>merge</c>) are written into the saved recipe as the run used them, so the saved recipe
/// merges to the same bytes (the trial found TIES sum saved as λ 1 after merging at 0.3).</summary>
[TestClass]
public sealed class DependentDefaultsTests
{
    [TestMethod]
    [DataRow("ties", "{ merge: sum, keep: 0.5 }", "scale: 0.3")]
    [DataRow("tatr", "{ merge: ties, quantile: 0.9 }", "scale: 1")]
    [DataRow("dare", "{ merge: ta, drop: 0.5 }", "scale: 0.3")]
    [DataRow("emr", "{ merge: ta }", "scale: 0.3")]
    public void TheSavedRecipe_RecordsTheLambdaTheRunUsed_AndMergesToTheSameBytes(string method, string parameters, string saved)
    {
        string dir = Directory.CreateTempSubdirectory("mlnm-dependent-").FullName;
        try
        {
            new TinyFamily("a", "b", "c")
                .WithTaskVectors("layers.0.w", [2, 3], [1f, -2f, 3f, 0.5f, 0f, 1f], [0.2f, -0.1f, 0.3f, -0.2f, 0.1f, 0f],
                    [-0.1f, 0.2f, -0.3f, 0.1f, 0.05f, -0.2f], [0.3f, 0.1f, 0.1f, -0.3f, -0.05f, 0.2f])
                .Save(dir);
            string recipe = Path.Combine(dir, "recipe.yaml");
            File.WriteAllText(recipe, $"method: {method}\nbase: base.safetensors\nmodels:\n  - {{ name: a, path: a.safetensors }}\n"
                + $"  - {{ name: b, path: b.safetensors }}\n  - {{ name: c, path: c.safetensors }}\nparameters: {parameters}\nseed: 3\n");
            string first = Path.Combine(dir, "first"), again = Path.Combine(dir, "again");
            RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = first });
            string text = File.ReadAllText(Path.Combine(first, "recipe.yaml"));
            StringAssert.Contains(text, saved);
            RecipeRunner.Merge(MergeRecipe.Load(Path.Combine(first, "recipe.yaml")), new RecipeRunOptions { Output = again });
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(first, "model.safetensors")), File.ReadAllBytes(Path.Combine(again, "model.safetensors")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
