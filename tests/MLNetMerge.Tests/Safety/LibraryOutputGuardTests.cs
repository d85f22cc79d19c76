using System.Text.Json;
using Microsoft.ML;
using MLNetMerge.Checkpoints;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// Issue 15, data loss, through the public ML.NET surface: <c>ml.Merging().SaveAsOnnx(…, overwrite: true)</c> and
/// <c>ml.Merging().RunRecipe(…, Overwrite = true)</c> follow the command line's <c>--force</c> rule — they replace a folder
/// an earlier MLNetMerge run wrote and refuse a foreign folder or one holding the family's files, before any work and
/// without touching it.
/// </summary>
[TestClass]
public sealed class LibraryOutputGuardTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-libguard-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [TestMethod]
    public void SaveAsOnnx_ReplacesItsOwnFolder_AndRefusesAForeignOneOrTheFamilysFolder()
    {
        // A private copy of two zoo checkpoints (and the config beside them), so the family's own folder can be the target.
        string family = Path.Combine(_dir, "family");
        Directory.CreateDirectory(family);
        foreach (var f in new[] { "base.safetensors", "fashion.safetensors", "digits.safetensors", "config.json" })
            File.Copy(Path.Combine(ZooPaths.Vision, f), Path.Combine(family, f));
        var ml = new MLContext(seed: 0);
        using var fam = ml.Merging().LoadFamily(Path.Combine(family, "base.safetensors"),
            [("fashion", Path.Combine(family, "fashion.safetensors")), ("digits", Path.Combine(family, "digits.safetensors"))]);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        var merge = ml.Merging().TaskArithmetic(fam, task: "fashion");

        string onnx = Path.Combine(_dir, "onnx");
        CollectionAssert.AreEqual(new[] { "model.onnx" }, ml.Merging().SaveAsOnnx(merge, test, onnx).ToArray());
        using (var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(onnx, "manifest.json"))))
        {
            Assert.AreEqual(OutputGuard.OnnxExportFormat, manifest.RootElement.GetProperty("format").GetString());
            Assert.AreEqual("task_arithmetic", manifest.RootElement.GetProperty("method").GetString());
        }
        byte[] first = File.ReadAllBytes(Path.Combine(onnx, "model.onnx"));
        Assert.ThrowsExactly<OutputExistsException>(() => ml.Merging().SaveAsOnnx(merge, test, onnx));
        ml.Merging().SaveAsOnnx(merge, test, onnx, overwrite: true);
        CollectionAssert.AreEqual(first, File.ReadAllBytes(Path.Combine(onnx, "model.onnx")), "same estimator, seed and input: same bytes");

        string foreign = Path.Combine(_dir, "thesis");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "chapter1.tex"), "text");
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => ml.Merging().SaveAsOnnx(merge, test, foreign, overwrite: true));
        StringAssert.Contains(e.Message, "chapter1.tex");
        Assert.AreEqual("text", File.ReadAllText(Path.Combine(foreign, "chapter1.tex")));

        // The family's folder, even emptied of everything but the checkpoints and given an MLNetMerge manifest, holds inputs.
        File.WriteAllText(Path.Combine(family, "manifest.json"), $"{{\"format\": \"{OutputGuard.OnnxExportFormat}\"}}");
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => ml.Merging().SaveAsOnnx(merge, test, family, overwrite: true));
        StringAssert.Contains(e.Message, "input of this run");
        Assert.HasCount(5, Directory.GetFiles(family));
        Assert.IsEmpty(Directory.GetDirectories(_dir, ".*"), "no temporary folder left");
    }

    [TestMethod]
    public void RunRecipe_WithOverwrite_RefusesAForeignFolderAndTheInputsFolder_AndReplacesItsOwnOutput()
    {
        var fam = new TinyFamily("t1", "t2").WithTaskVectors("layers.0.w", [2], [1f, 2f], [1f, 0f], [0f, 1f]);
        string family = Path.Combine(_dir, "family");
        Directory.CreateDirectory(family);
        fam.Save(family);
        string recipe = Path.Combine(family, "recipe.yaml");
        File.WriteAllText(recipe, "method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - { name: t1, path: t1.safetensors }\n  - { name: t2, path: t2.safetensors }\nparameters: { scale: 0.5 }\noutput: ../out\n");
        var ml = new MLContext(seed: 0);
        var merging = ml.Merging();

        string foreign = Path.Combine(_dir, "data");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.csv"), "1");
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => merging.RunRecipe(recipe, new RecipeOptions { Output = foreign, Overwrite = true }));
        StringAssert.Contains(e.Message, "keep.csv");
        Assert.AreEqual("1", File.ReadAllText(Path.Combine(foreign, "keep.csv")));

        int before = Directory.GetFiles(family).Length;
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => merging.RunRecipe(recipe, new RecipeOptions { Output = family, Overwrite = true }));
        StringAssert.Contains(e.Message, "input of this run");
        Assert.AreEqual(before, Directory.GetFiles(family).Length);

        merging.RunRecipe(recipe);
        string output = Path.Combine(_dir, "out");
        // θ = θ0 + 0.5 (τ1 + τ2) = [1, 2] + 0.5 [1, 1] = [1.5, 2.5].
        using (var r = CheckpointReader.Open(Path.Combine(output, "model.safetensors")))
        {
            var v = new float[2];
            r.ReadFloat32(r.Tensors.Single(t => t.Name == "layers.0.w"), v);
            CollectionAssert.AreEqual(new[] { 1.5f, 2.5f }, v);
        }
        Assert.ThrowsExactly<OutputExistsException>(() => merging.RunRecipe(recipe));
        merging.RunRecipe(recipe, new RecipeOptions { Overwrite = true });
        Assert.IsTrue(File.Exists(Path.Combine(output, "model.safetensors")));
    }
}
