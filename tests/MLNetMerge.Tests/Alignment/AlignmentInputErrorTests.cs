using MLNetMerge.Data;
using MLNetMerge.Alignment;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Every coefficient and data-using stage refuses bad input with a typed error.</summary>
[TestClass]
public sealed class AlignmentInputErrorTests
{
    private static IEnumerable<IAlignmentEstimator> Stages() =>
    [
        EngineRuns.Stage(new AdaMergingOptions { Steps = 1 }), EngineRuns.Stage(new AdaMergingOptions { Vectors = AdaMergingVectors.Ties }), EngineRuns.Stage(new CartPlusPlusOptions()),
        EngineRuns.Stage(new RegMeanOptions()), EngineRuns.Stage(new FisherOptions()),
    ];

    [TestMethod]
    public void MissingOrExtraTaskData_IsAnAlignmentDataException()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var onlyA = new Dictionary<string, TaskDataset> { ["a"] = fx.Data["a"] };
        var extra = new Dictionary<string, TaskDataset>(fx.Data) { ["z"] = fx.Data["a"] };
        foreach (var stage in Stages())
        {
            var e = Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, onlyA)), stage.Name);
            Assert.AreEqual("b", e.Task);
            e = Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, extra)), stage.Name);
            Assert.AreEqual("z", e.Task);
            Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, null)), stage.Name);
        }
    }

    [TestMethod]
    public void EmptyOrMisShapedData_IsAnAlignmentDataException()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var classes = fx.Data["b"].ClassNames;
        var empty = new Dictionary<string, TaskDataset>(fx.Data) { ["b"] = new TaskDataset("b", [], [64], null, classes) };
        var wrongSize = new Dictionary<string, TaskDataset>(fx.Data) { ["b"] = new TaskDataset("b", new float[4 * 63], [63], null, classes) };
        var wrongClasses = new Dictionary<string, TaskDataset>(fx.Data) { ["b"] = new TaskDataset("b", new float[4 * 64], [64], null, ["x", "y"]) };
        foreach (var stage in Stages())
        {
            StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, empty))).Message, "empty");
            StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, wrongSize))).Message, "63 values");
            StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => stage.Fit(merged, new MergeInputs(fx.Family, wrongClasses))).Message, "2 classes");
        }
    }

    [TestMethod]
    public void HeadOfTheWrongWidth_IsACheckpointFormatException()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"], headWidth: 9);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        foreach (var stage in Stages())
        {
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => stage.Fit(merged, fx.Inputs), stage.Name);
            Assert.AreEqual("classifier.weight", e.Tensor);
            StringAssert.Contains(e.Message, "(K, 8)");
        }
    }

    [TestMethod]
    public void MergedModelOfAnotherFamily_IsAnIncompatibleModelsException()
    {
        using var ab = AlignmentFixture.TinyVit(["a", "b"]);
        using var ac = AlignmentFixture.TinyVit(["a", "c"]);
        var merged = EngineRuns.Merge(ac.Family, new TaskArithmeticOptions());
        foreach (var stage in Stages())
            Assert.ThrowsExactly<IncompatibleModelsException>(() => stage.Fit(merged, ab.Inputs), stage.Name);
    }
}
