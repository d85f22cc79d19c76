using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// What a new recipe author's slips give (found by a recipe-authoring trial): settings given twice or overridden are
/// refused by name before anything runs, and sections a command does not run are said.
/// </summary>
[TestClass]
public sealed class RecipeAuthoringRefusalsTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init()
    {
        _dir = Directory.CreateTempSubdirectory("mlnetmerge-authoring-").FullName;
        new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [1f, -2f, 0.5f, 3f], [2f, 1.5f, -1f, -0.25f]).Save(_dir);
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private const string Models = "base: base.safetensors\nmodels:\n  - path: t1.safetensors\n  - path: t2.safetensors\n";

    private MergeRecipe Parse(string yaml) => MergeRecipe.Parse(yaml, Path.Combine(_dir, "r.yaml"), _dir);

    private static void Refused(Action action, params string[] fragments)
    {
        var e = Assert.ThrowsExactly<RecipeException>(action);
        StringAssert.Contains(e.Message, "r.yaml");
        foreach (var f in fragments) StringAssert.Contains(e.Message, f);
    }

    [TestMethod]
    public void PathAndModelInOneEntry_AreRefused()
    {
        // The entry named t1's file and t2's: the last key won, and t2 was merged as 't1' with exit 0.
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels:\n  - { name: t1, path: t1.safetensors, model: t2.safetensors }\n  - path: t2.safetensors\n"),
            "models[0]", "'path' and 'model'");
    }

    [TestMethod]
    public void EvaluateSection_RefusesEmptyRepeatedAndUnreadSettings()
    {
        string[] bad =
        [
            "protocols: []", "protocols: [current, current]", "ftc_shots: []", "protocols: [current, ft_classifier]\n  ftc_shots: [1, 1]",
            "ftc_shots: [1, 5]", "protocols: [current]\n  shots: 3",
        ];
        string[] names = ["evaluate.protocols", "evaluate.protocols", "evaluate.ftc_shots", "evaluate.ftc_shots", "evaluate.ftc_shots", "evaluate.shots"];
        for (int i = 0; i < bad.Length; i++)
        {
            var recipe = Parse($"method: ties\n{Models}evaluate:\n  {bad[i]}\n");
            Refused(() => EvaluateSection.Read(recipe), names[i]);
        }
        Assert.AreEqual(2, EvaluateSection.Read(Parse($"method: ties\n{Models}evaluate:\n  protocols: [current, ft_classifier]\n  ftc_shots: [1, 5]\n")).Protocols.Count);
    }

    [TestMethod]
    public void SweepOverAFixedOrPerModelParameter_IsRefused()
    {
        Refused(() => SweepSection.Read(Parse($"method: ties\n{Models}parameters: {{keep: 0.9}}\nsweep: {{keep: [0.2, 0.5]}}\n")), "sweep.keep", "keep");
        // Through an alias: density is keep's mergekit name.
        Refused(() => SweepSection.Read(Parse($"method: ties\n{Models}parameters: {{density: 0.9}}\nsweep: {{keep: [0.2, 0.5]}}\n")), "sweep.keep", "density");
        string perModel = "base: base.safetensors\nmodels:\n  - path: t1.safetensors\n    parameters: {keep: 0.9}\n  - path: t2.safetensors\n    parameters: {keep: 0.9}\n";
        Refused(() => SweepSection.Read(Parse($"method: ties\n{perModel}sweep: {{keep: [0.2, 0.5]}}\n")), "every model sets keep");
        // One model's own weight beside a swept global keep is fine.
        string oneWeight = "base: base.safetensors\nmodels:\n  - path: t1.safetensors\n    parameters: {weight: 0.5}\n  - path: t2.safetensors\n";
        Assert.AreEqual(2, SweepSection.Read(Parse($"method: ties\n{oneWeight}sweep: {{keep: [0.2, 0.5], scale: [1]}}\n")).Grid.Count);
    }

    [TestMethod]
    public void SingleFileExportOfAMethodWithoutMasks_IsRefusedBeforeTheMerge()
    {
        string output = Path.Combine(_dir, "out");
        var recipe = Parse($"method: task_arithmetic\n{Models}output: out\nexport: {{onnx: out/onnx, single_file: true, per_task: false}}\n");
        Refused(() => RecipeRunner.Run(recipe, new RecipeRunOptions()), "export.single_file", "task_arithmetic");
        Assert.IsFalse(Directory.Exists(output), "nothing was written");
    }

    [TestMethod]
    public void MergeSaysWhichSectionsItDoesNotRun()
    {
        string recipe = Path.Combine(_dir, "r.yaml");
        File.WriteAllText(recipe, $"method: ties\n{Models}output: out\nsweep: {{keep: [0.2, 0.5]}}\n");
        var lines = new List<string>();
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Log = lines.Add });
        var warning = lines.Single(l => l.StartsWith("warning:", StringComparison.Ordinal) && l.Contains("does not run", StringComparison.Ordinal));
        StringAssert.Contains(warning, "sweep:");
        StringAssert.Contains(warning, "r.yaml");
    }

    [TestMethod]
    public void ParameterValueErrors_NameTheParameter()
    {
        Refused(() => Parse($"method: ties\n{Models}parameters: {{scale: []}}\n"), "parameters.scale", "empty list");
        Refused(() => Parse($"method: ties\n{Models}parameters: {{scale: [0.2, x]}}\n"), "parameters.scale", "'x' is not a number");
        Refused(() => Parse($"method: ties\n{Models}parameters: {{scale: [[1, 2]]}}\n"), "parameters.scale", "mapping");
        Refused(() => Parse($"method: ties\n{Models}parameters:\n  <<: {{keep: 0.5}}\n"), "parameters.<<", "merge keys");
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels:\n  - path: t1.safetensors\n    parameters: {weight: []}\n  - path: t2.safetensors\n"),
            "models[0].parameters.weight");
    }

    [TestMethod]
    public void YamlNull_IsNoValue_NotTheTextTilde()
    {
        // output: ~ made a folder named "~" beside the recipe.
        Refused(() => Parse($"method: ties\n{Models}output: ~\n"), "'output' is null");
        Refused(() => Parse($"method: ties\n{Models}heads: null\n"), "'heads' is null");
        Assert.AreEqual("~x", Parse($"method: ties\n{Models}output: ~x\n").Output![^2..]);
    }

    [TestMethod]
    public void ModelsListedTwice_AreRefused_AndMaterializeAllNamesEveryModel()
    {
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels:\n  - { name: a, path: t1.safetensors }\n  - { name: b, path: t1.safetensors }\n"),
            "'a' and 'b' are the same checkpoint");
        CollectionAssert.AreEqual(new[] { "t1", "t2" }, Parse($"method: ties\n{Models}materialize: all\n").Materialize.ToArray());
    }

    [TestMethod]
    public void EmptySweeps_AndRepeatedCandidates_AreRefused()
    {
        Refused(() => SweepSection.Read(Parse($"method: ties\n{Models}sweep: {{}}\n")), "sweep: empty");
        Refused(() => SweepSection.Read(Parse($"method: ties\n{Models}sweep: {{keep: [0.2, 0.2]}}\n")), "sweep.keep", "0.2 is listed twice");
    }

    [TestMethod]
    public void DeadHeadPatternsAndShadowedFilterEntries_AreWarned_AndAllHeadsRefused()
    {
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("enc.attention.w", [2], [0f, 0f], [1f, 2f], [3f, 4f])
            .WithTaskVectors("enc.mlp.w", [2], [0f, 0f], [1f, 2f], [3f, 4f])
            .WithHead("t1", "classifier.weight", [2, 2], [1f, 2f, 3f, 4f])
            .WithHead("t2", "classifier.weight", [2, 2], [1f, 2f, 3f, 4f]);
        using (var family = f.Build("classifier.*, clasifer.*"))
        {
            var warnings = Run(family, "task_arithmetic", new Dictionary<string, ParameterValue>
            {
                ["scale"] = new ParameterValue.Filtered([(null, new ParameterValue.Scalar(1)), ("attention", new ParameterValue.Scalar(2))]),
            }).Summary.Warnings.ToList();
            Assert.IsTrue(warnings.Any(w => w.Contains("'clasifer.*'", StringComparison.Ordinal)), string.Join("\n", warnings));
            Assert.IsTrue(warnings.Any(w => w.Contains("filter 'attention' (entry 2)", StringComparison.Ordinal) && w.Contains("never used", StringComparison.Ordinal)), string.Join("\n", warnings));
            Assert.IsFalse(warnings.Any(w => w.Contains("'classifier.*' (of", StringComparison.Ordinal)), "a matching glob is not warned about");
        }
        var all = Assert.ThrowsExactly<IncompatibleModelsException>(() => f.Build("*"));
        StringAssert.Contains(all.Message, "nothing is left to merge");
    }

    [TestMethod]
    public void EverySectionIsChecked_WhicheverCommandRuns()
    {
        // diagnose ran recipes whose sweep, evaluate or materialize merge refused, and merge ran `export: 5` with a warning
        // (found by a structure-aware fuzz trial).
        const string head = "method: ties\nbase: base.safetensors\nmodels: [ { name: a, path: t1.safetensors } ]\n";
        Refused(() => RecipeRunner.CheckSections(Parse(head + "sweep: 5\n")), "sweep: expected a mapping");
        Refused(() => RecipeRunner.CheckSections(Parse(head + "export: 5\n")), "export: expected a mapping");
        Refused(() => RecipeRunner.CheckSections(Parse(head + "align: true\n")), "align: expected a mapping");
        Refused(() => RecipeRunner.CheckSections(Parse(head + "evaluate: 5\n")), "evaluate");
        Refused(() => RecipeRunner.CheckSections(Parse(head + "materialize: [nope]\n")), "materialize: 'nope' is not a model of the recipe (a)");
        RecipeRunner.CheckSections(Parse(head + "evaluate: { protocols: [knn], seeds: 10000 }\n"));
        // A draw count without a bound ran for hours.
        Refused(() => RecipeRunner.CheckSections(Parse(head + "evaluate: { protocols: [knn], seeds: 2000000000 }\n")), "evaluate.seeds: expected a whole number from 1 to 10,000.");
        Refused(() => Parse(head + "output: \"a\\0b\"\n"), "output: the path holds a NUL character");
    }

    [TestMethod]
    public void DefaultNames_DropOnlyACheckpointEnding()
    {
        // 'ckpt.v1' and 'ckpt.v2' both became 'ckpt' (a command-line trial, with Hugging Face-style folder names).
        Assert.AreEqual("ckpt_v1", RecipeParser.SanitizedName("zoo/ckpt.v1/"));
        Assert.AreEqual("vit-base_fashion-ft", RecipeParser.SanitizedName("vit-base.fashion-ft"));
        Assert.AreEqual("fashion", RecipeParser.SanitizedName("zoo/fashion.safetensors"));
        Assert.AreEqual("qwen2_5-ft", RecipeParser.SanitizedName("runs/qwen2.5-ft/model.safetensors.index.json"));
        Assert.AreEqual("t1", RecipeParser.SanitizedName("t1.pt"));
        var recipe = Parse("method: ties\nbase: base.safetensors\nmodels:\n  - path: vit.a-ft\n  - path: vit.b-ft\n");
        CollectionAssert.AreEqual(new[] { "vit_a-ft", "vit_b-ft" }, recipe.Models.Select(m => m.Name).ToArray());
    }

    [TestMethod]
    public void AnAliasWithoutAnchor_IsPlacedOnItsLine()
    {
        // YamlDotNet resolves aliases after parsing and placed every such error at line 1.
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels: [ { path: t1.safetensors } ]\n\nparameters:\n  keep: *k\n"), "line 6", "the alias *k refers to no anchor &k");
        Refused(() => Parse("method: ties\nparameters: { keep: &k 0.2 }\nbase: *b\n"), "line 3", "*b");
        // Not in a comment or a quoted scalar before it.
        Refused(() => Parse("# base is given by *b\nmethod: ties\nheads: \"classifier.* *b\"\nbase: *b\n"), "line 4", "*b");
    }

    [TestMethod]
    public void ATabInTheIndentation_IsPlacedOnItsLine()
    {
        // YamlDotNet placed it at line 1, the start of the mapping.
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels:\n\t- path: t1.safetensors\n"), "line 4", "tab in the indentation");
    }

    [TestMethod]
    public void ATensorWithoutElements_IsWritten_ByEveryKindOfMerge()
    {
        // The slice-streamed merge pass made no slice of an empty tensor and failed with "1 tensors never written".
        new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [1f, -2f, 0.5f, 3f], [2f, 1.5f, -1f, -0.25f])
            .WithTaskVectors("e", [3, 0], [], [], []).Save(_dir);
        foreach (var method in new[] { "task_arithmetic", "ties", "weight_average", "emr", "dare", "nearswap" })
        {
            string recipe = Path.Combine(_dir, method + ".yaml");
            string models = method == "nearswap" ? "base: base.safetensors\nmodels:\n  - path: t1.safetensors\n" : Models;
            File.WriteAllText(recipe, $"method: {method}\n{models}output: out-{method}\n");
            RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions());
            using var r = Checkpoints.CheckpointReader.Open(Path.Combine(_dir, "out-" + method, "model.safetensors"));
            Assert.IsTrue(r.TryGetTensor("e", out var e), method);
            CollectionAssert.AreEqual(new[] { 3, 0 }, e.Shape, method);
        }
    }

    [TestMethod]
    public void SecondTrial_FalseRefusalsAndWaysAround()
    {
        // mergekit's README lists the base bare ("no parameters necessary for base model"): it leaves the task set, so it
        // needs no weight (the weight check ran before it was left out).
        string bare = "base_model: base.safetensors\nmodels:\n  - model: base.safetensors\n  - model: t1.safetensors\n    parameters: {weight: 1}\n"
            + "  - model: t2.safetensors\n    parameters: {weight: 1}\n";
        foreach (var method in new[] { "ties", "dare_ties", "task_arithmetic", "della", "breadcrumbs_ties" })
            CollectionAssert.AreEqual(new[] { "t1", "t2" }, Parse($"merge_method: {method}\n{bare}").Models.Select(m => m.Name).ToArray(), method);
        Refused(() => Parse($"merge_method: linear\n{bare}"), "weight", "'base'"); // linear keeps the base as a model

        // A model named all is materialized alone.
        var named = Parse("method: ties\nbase: base.safetensors\nmodels:\n  - { name: all, path: t1.safetensors }\n  - { name: b, path: t2.safetensors }\nmaterialize: [all]\n");
        CollectionAssert.AreEqual(new[] { "all" }, named.Materialize.ToArray());

        // A symbolic link to a listed checkpoint is the same checkpoint.
        File.CreateSymbolicLink(Path.Combine(_dir, "link.safetensors"), Path.Combine(_dir, "t1.safetensors"));
        Refused(() => Parse("method: ties\nbase: base.safetensors\nmodels:\n  - { name: a, path: t1.safetensors }\n  - { name: b, path: link.safetensors }\n"), "same checkpoint");

        // null parameter values are null, not the word '~'.
        Refused(() => Parse($"method: ties\n{Models}parameters: {{scale: ~}}\n"), "parameters.scale is null");
        // seeds that no chosen protocol draws; two names of one swept parameter.
        Refused(() => EvaluateSection.Read(Parse($"method: ties\n{Models}evaluate: {{protocols: [current], seeds: 2}}\n")), "evaluate.seeds");
        Refused(() => SweepSection.Read(Parse($"method: ties\n{Models}sweep: {{keep: [0.2, 0.5], density: [0.3]}}\n")), "sweep.density", "sweep.keep");
    }

    [TestMethod]
    public void AFilterListWhoseFirstEntryMatchesEverything_IsOneValue()
    {
        // TIES reads keep once for the whole model: [{filter: '*', value: 0.3}, {value: 0.1}] is 0.3 everywhere, not a
        // value that "varies over layers".
        var f = new TinyFamily("t1", "t2").WithTaskVectors("layers.0.w", [4], [0f, 0f, 0f, 0f], [1f, -2f, 0.5f, 3f], [2f, 1.5f, -1f, -0.25f]);
        var keep = new ParameterValue.Filtered([("*", new ParameterValue.Scalar(0.5)), (null, new ParameterValue.Scalar(0.1))]);
        var filtered = Run(f, "ties", new Dictionary<string, ParameterValue> { ["keep"] = keep }).Tensors["layers.0.w"];
        CollectionAssert.AreEqual(Run(f, "ties", P(("keep", 0.5))).Tensors["layers.0.w"], filtered);
    }

    [TestMethod]
    public void AMalformedImageProcessorFile_FailsWhenTheFamilyOpens()
    {
        // It was copied into the merge output with exit 0 and failed only when ImagePixels read it.
        string dir = Path.Combine(_dir, "vision");
        Directory.CreateDirectory(dir);
        foreach (var file in new[] { "base.safetensors", "fashion.safetensors", "config.json" })
            File.Copy(Path.Combine(ZooPaths.Vision, file), Path.Combine(dir, file));
        File.WriteAllText(Path.Combine(dir, Encoders.ImagePreprocessing.FileName), "{\"image_std\": [0]}");
        using var family = Encoders.ModelFamily.Load(Path.Combine(dir, "base.safetensors"), [("fashion", Path.Combine(dir, "fashion.safetensors"))]);
        var e = Assert.ThrowsExactly<MergeException>(() => family.Architecture);
        StringAssert.Contains(e.Message, Encoders.ImagePreprocessing.FileName);
        StringAssert.Contains(e.Message, "image_std");
    }
}
