using MLNetMerge.Alignment;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Alignment;

/// <summary>The recipe's <c>align:</c> section: read → write → read gives the same plan; bad sections name file and key.</summary>
[TestClass]
public sealed class AlignSectionTests
{
    private const string Head = "method: task_arithmetic\nbase: ../base.safetensors\nmodels:\n  - { name: a, path: ../a.safetensors }\n  - { name: b, path: ../b.safetensors }\nseed: 3\n";

    private static MergeRecipe Recipe(string align) => MergeRecipe.Parse(Head + align, "/zoo/recipes/align/test.yaml", "/zoo/recipes/align");

    private static void AssertSame(AlignPlan x, AlignPlan y)
    {
        Assert.AreEqual(x.Data, y.Data);
        Assert.AreEqual(x.Seeds, y.Seeds);
        Assert.AreEqual(x.Stages.Count, y.Stages.Count);
        for (int i = 0; i < x.Stages.Count; i++)
        {
            Assert.AreEqual(x.Stages[i].Name, y.Stages[i].Name);
            CollectionAssert.AreEquivalent(x.Stages[i].Parameters.ToArray(), y.Stages[i].Parameters.ToArray(), x.Stages[i].Name);
        }
    }

    [TestMethod]
    public void ReadWriteRead_IsTheSamePlan()
    {
        var recipe = Recipe(
            "align:\n  data: { zoo: ../.., split: validation, samples: 100 }\n  seeds: 3\n  stages:\n" +
            "    - { method: ft_classifier, parameters: { shots: 5, epochs: 5, learning_rate: 5e-4, batch: 1 } }\n" +
            "    - { method: aligned_transform, parameters: { transform: affine, solver: trained, beta: 0.5 } }\n" +
            "    - { method: surgery }\n");
        var plan = AlignSection.Read(recipe);
        Assert.AreEqual(new AlignData("/zoo", "validation", 100), plan.Data);
        Assert.AreEqual(3, plan.Seeds);
        Assert.AreEqual(3, plan.Stages.Count);
        Assert.AreEqual(3ul, ((IFewShotAlignmentEstimator)plan.Stages[0]).Seed, "stages get the recipe's seed");
        Assert.AreEqual(0.5, ((AlignedTransformEstimator)plan.Stages[1]).Training!.Beta);
        Assert.AreEqual(16, ((SurgeryEstimator)plan.Stages[2]).Settings.Rank, "defaults filled in");
        string yaml = AlignSection.ToYaml(plan);
        var again = AlignSection.Read(Recipe(yaml));
        AssertSame(plan, again);
        Assert.AreEqual(yaml, AlignSection.ToYaml(again), "writing is deterministic");
    }

    [TestMethod]
    public void OneMappingIsShorthandForOneStage()
    {
        var plan = AlignSection.Read(Recipe("align: { method: aligned_transform, parameters: { transform: scaling } }\n"));
        Assert.AreEqual(new AlignData(), plan.Data);
        Assert.AreEqual(1, plan.Stages.Count);
        Assert.AreEqual(TransformKind.Scaling, ((AlignedTransformEstimator)plan.Stages[0]).Kind);
        AssertSame(plan, AlignSection.Read(Recipe(AlignSection.ToYaml(plan))));
        Assert.AreEqual(0, AlignSection.Read(Recipe("")).Stages.Count);
    }

    [TestMethod]
    public void BadSectionsNameTheFileAndKey()
    {
        foreach (var (yaml, key) in new[]
        {
            ("align: { colour: blue }\n", "colour"),
            ("align: { data: { split: train } }\n", "align.data.split"),
            ("align: { data: { samples: -1 } }\n", "align.data.samples"),
            ("align: { stages: [ { method: magic } ] }\n", "magic"),
            ("align: { stages: [ { method: ft_classifier, parameters: { shots: many } } ] }\n", "shots"),
            ("align: { stages: [ { method: surgery, parameters: { depth: 2 } } ] }\n", "depth"),
            ("align: { stages: [ { parameters: {} } ] }\n", "method"),
            ("align: { method: surgery, stages: [] }\n", "not both"),
        })
        {
            var e = Assert.ThrowsExactly<RecipeException>(() => AlignSection.Read(Recipe(yaml)), yaml);
            StringAssert.Contains(e.Message, "test.yaml", yaml);
            StringAssert.Contains(e.Message, key, yaml);
        }
    }

    [TestMethod]
    public void RowNamesTellRepeatedStagesApart()
    {
        var plan = AlignSection.Read(Recipe("align:\n  stages:\n    - { method: aligned_transform, parameters: { transform: affine } }\n" +
            "    - { method: aligned_transform, parameters: { transform: orthogonal } }\n    - { method: ft_classifier }\n"));
        var names = AlignmentRows.RowNames("ties", plan.Stages);
        CollectionAssert.AreEqual(new[] { "ties+aligned_transform[transform=affine]", "ties+aligned_transform[transform=orthogonal]", "ties+ft_classifier" }, names.ToArray());
    }

    [TestMethod]
    public void EvaluateSection_AcceptsFtClassifierEvalWithItsShots()
    {
        var s = EvaluateSection.Read(Recipe("evaluate: { protocols: [current, ft_classifier], ftc_shots: [1, 5] }\n"));
        CollectionAssert.AreEqual(new[] { "current", "ft_classifier" }, s.Protocols.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 5 }, s.FtcShots.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 5, 10, 20 }, EvaluateSection.Read(Recipe("")).FtcShots.ToArray());
        Assert.ThrowsExactly<RecipeException>(() => EvaluateSection.Read(Recipe("evaluate: { ftc_shots: [0] }\n")));
    }

    [TestMethod]
    public void DataDescriptionsAndSamplesFollowTheSection()
    {
        var data = new MLNetMerge.Data.TaskDataset("t", Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), [1], null, ["x"]);
        var four = AlignmentRows.Sample(data, 4, 0);
        Assert.AreEqual(4, four.Count);
        Assert.AreEqual(4, four.Features.Distinct().Count(), "drawn without replacement");
        CollectionAssert.AreEqual(four.Features, AlignmentRows.Sample(data, 4, 0).Features, "seeded");
        Assert.AreSame(data, AlignmentRows.Sample(data, 0, 0));
        StringAssert.Contains(AlignmentRows.Describe(EngineRuns.Stage(new FtClassifierOptions()), new AlignData()), "5 per class of the unlabeled test inputs");
        StringAssert.Contains(AlignmentRows.Describe(new SurgeryEstimator(), new AlignData()), "(transductive)");
        Assert.IsFalse(AlignmentRows.Describe(new SurgeryEstimator(), new AlignData(Split: "validation")).Contains("transductive"));
    }
}
