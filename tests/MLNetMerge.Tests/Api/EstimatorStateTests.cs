using Microsoft.ML;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// What an estimator keeps from when it was made. Its Options: a copy (one Options object reused to make an estimator
/// per task served the last task in every one of them, without an error; found by a library user's trial). And an
/// estimator without <c>Seed</c> draws its seed from the <c>MLContext</c> once, when it is made: its fit and the recipe
/// it writes use the same one (the recipe said <c>seed: 0</c> while the fit had drawn another, and the recipe rebuilt
/// another DARE model; found by a docs trial).
/// </summary>
[TestClass]
public sealed class EstimatorStateTests
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

    [TestMethod]
    public void AnOptionsObjectReused_ChangesNoEstimatorAlreadyMade()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
            [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors")), ("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors"))]);
        var options = new TiesOptions { Keep = 0.2, Scale = 1.0, Seed = 0 };
        var made = new List<(string Task, MergeEstimator Estimator)>();
        foreach (var task in family.TaskNames)
        {
            options.Task = task;
            made.Add((task, ml.Merging().Ties(family, options)));
        }
        options.Keep = 0.9;
        options.Weights = new Dictionary<string, double> { ["nope"] = 2 };
        var stageOptions = new FtClassifierOptions { Epochs = 2 };
        var stage = ml.Merging().FtClassifier(stageOptions);
        stageOptions.Epochs = -5;
        foreach (var (task, estimator) in made)
        {
            CollectionAssert.AreEqual(new[] { task }, estimator.Tasks.ToArray());
            Assert.AreEqual(0.2, estimator.Parameters().Number("keep"));
            var view = ml.Merging().LoadZooData(ZooPaths.Vision, task, "test");
            var withStage = estimator.Append(stage);
            Assert.IsNotNull(withStage.FitModels(ml.Data.TakeRows(view, 40)).Aligned, "the stage keeps Epochs = 2");
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().Ties(family, new TiesOptions { Weights = null! })).Message, "Weights");
    }

    [TestMethod]
    public void ATokenCancelledAfterTheMerge_StillStopsTheFit()
    {
        // Building the ONNX graphs after the merge (most of a short fit) never looked at the token: a fit cancelled there
        // returned a model. The chain's construction is given the merged model with the token already cancelled.
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
            [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors")), ("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors"))]);
        using var source = new CancellationTokenSource();
        var options = new TaskArithmeticOptions { CancellationToken = source.Token };
        var estimator = ml.Merging().TaskArithmetic(family, options);
        var view = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), 4);
        var (merged, _) = estimator.FitModels(view);
        source.Cancel();
        var e = Assert.ThrowsExactly<OperationCanceledException>(() => MergedChain.Create(ml, family, merged, null, family.TaskNames, estimator.Options, sharedEncoder: true));
        Assert.AreEqual(source.Token, e.CancellationToken);
    }

    [TestMethod]
    public void FamilySettingsARecipeCannotCarry_AreSaid_AndZooClassesFollowTheCheckpoint()
    {
        var ml = new MLContext(seed: 0);
        string b = Path.Combine(ZooPaths.Vision, "base.safetensors");
        // Class names named "digits" but the checkpoint is Fashion-MNIST: the zoo's names follow the checkpoint.
        using (var zoo = ml.Merging().LoadZooFamily(ZooPaths.Vision))
        using (var swapped = ml.Merging().LoadFamily(b, [("digits", Path.Combine(ZooPaths.Vision, "fashion.safetensors"))]))
        {
            CollectionAssert.AreEqual(zoo.ClassNames("fashion").ToArray(), swapped.ClassNames("digits").ToArray());
            CollectionAssert.AreNotEqual(zoo.ClassNames("digits").ToArray(), swapped.ClassNames("digits").ToArray());
        }
        using var named = ml.Merging().LoadFamily(b, [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors"))],
            new MergeFamilyOptions { ClassNames = new Dictionary<string, IReadOnlyList<string>> { ["fashion"] = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")] } });
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Merging().TaskArithmetic(named).ToRecipeYaml(Path.GetTempPath()));
        StringAssert.Contains(e.Message, "ClassNames");
    }

    [TestMethod]
    public void EmptyOrNullArguments_AreArgumentErrorsNamingTheParameter()
    {
        // They were ArgumentNullException naming 'path1' or 'key', IncompatibleModelsException about a file, a folder named
        // "   ", doubled rows, or an error about an internal column at Fit.
        var ml = new MLContext(seed: 0);
        string b = Path.Combine(ZooPaths.Vision, "base.safetensors");
        void Named(Action act, string parameter) => Assert.AreEqual(parameter, Assert.ThrowsExactly<ArgumentNullException>(act).ParamName);
        void Argument(Action act, string parameter) => Assert.AreEqual(parameter, Assert.Throws<ArgumentException>(act).ParamName);
        Named(() => ml.Merging().LoadZooData(null!), "directory");
        Named(() => ml.Merging().LoadZooData(ZooPaths.Vision, split: null!), "split");
        Named(() => ml.Merging().LoadFamily(b, [(null!, b)]), "tasks");
        Argument(() => ml.Merging().LoadFamily("   ", [("a", b)]), "basePath");
        Argument(() => ml.Merging().LoadZooData(ZooPaths.Vision, "test", ["digits", "digits"]), "tasks");
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        Named(() => ml.Merging().ImagePixels(family, null!), "imagePathColumnName");
        Named(() => ml.Merging().MapClassNamesToKeys(family, null!), "task");
        Argument(() => ml.Merging().FtClassifier(new FtClassifierOptions { LabelColumnName = "" }), "options");
    }
}
