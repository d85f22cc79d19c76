using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class ModelFamilyTests
{
    private static InMemoryCheckpoint Model(string path) => new InMemoryCheckpoint(path)
        .Add("layers.0.w", [2, 3], new float[6])
        .Add("layers.0.b", [3], new float[3])
        .AddInt64("position_ids", [4], [0, 1, 2, 3]);

    private static ModelFamily Create(InMemoryCheckpoint b, params InMemoryCheckpoint[] tasks) =>
        ModelFamily.Create(b, tasks.Select((t, i) => new TaskModel($"t{i + 1}", t)).ToList(), new HeadFilter("classifier.*"));

    private static void AssertNames(MergeException e, string file, string tensor)
    {
        StringAssert.Contains(e.Message, file);
        StringAssert.Contains(e.Message, $"'{tensor}'");
        Assert.AreEqual(tensor, e.Tensor);
    }

    [TestMethod]
    public void SeparatesMergedCopiedAndHeadTensors()
    {
        var t1 = Model("t1.safetensors").Add("classifier.weight", [2, 3], new float[6]);
        var t2 = Model("t2.safetensors").Add("classifier.weight", [5, 3], new float[15]).Add("classifier.bias", [5], new float[5]);
        using var f = Create(Model("base.safetensors"), t1, t2);
        CollectionAssert.AreEqual(new[] { "layers.0.w", "layers.0.b" }, f.MergedTensors.Select(t => t.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "position_ids" }, f.CopiedTensors.Select(t => t.Name).ToArray());
        Assert.AreEqual(1, f.TaskHeads["t1"].Count);
        Assert.AreEqual(2, f.TaskHeads["t2"].Count);
        Assert.AreEqual(9, f.MergedParameterCount);
    }

    [TestMethod]
    public void HeadsInTheBaseAreNeitherMergedNorCopied()
    {
        var b = Model("base.safetensors").Add("classifier.weight", [1, 3], new float[3]);
        var t1 = Model("t1.safetensors").Add("classifier.weight", [4, 3], new float[12]);
        using var f = Create(b, t1);
        Assert.IsFalse(f.MergedTensors.Any(t => t.Name.StartsWith("classifier", StringComparison.Ordinal)));
        Assert.IsFalse(f.CopiedTensors.Any(t => t.Name.StartsWith("classifier", StringComparison.Ordinal)));
        CollectionAssert.AreEqual(new[] { 4, 3 }, f.TaskHeads["t1"].Single().Shape);
    }

    [TestMethod]
    public void ShapeMismatch()
    {
        var t = new InMemoryCheckpoint("t1.safetensors").Add("layers.0.w", [3, 2], new float[6]).Add("layers.0.b", [3], new float[3])
            .AddInt64("position_ids", [4], [0, 1, 2, 3]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), t));
        AssertNames(e, "t1.safetensors", "layers.0.w");
        StringAssert.Contains(e.Message, "[3, 2]");
        StringAssert.Contains(e.Message, "[2, 3]");
    }

    [TestMethod]
    public void DTypeMismatch_IntegerWhereTheBaseHasFloats()
    {
        var t = new InMemoryCheckpoint("t1.safetensors").Add("layers.0.w", [2, 3], new float[6]).AddInt64("layers.0.b", [3], [0, 0, 0])
            .AddInt64("position_ids", [4], [0, 1, 2, 3]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), t));
        AssertNames(e, "t1.safetensors", "layers.0.b");
        StringAssert.Contains(e.Message, "I64");
        StringAssert.Contains(e.Message, "floating point");
    }

    [TestMethod]
    public void MixedFloatDTypes_AreOneFamily()
    {
        // A bf16 fine-tune of an fp32 base (and the other way round) is read into float32 like any other.
        var t = new InMemoryCheckpoint("t1.safetensors").Add("layers.0.w", [2, 3], new float[6]).Add("layers.0.b", [3], new float[3], DType.BF16)
            .AddInt64("position_ids", [4], [0, 1, 2, 3]);
        using var family = Create(Model("base.safetensors"), t);
        Assert.AreEqual(2, family.MergedTensors.Count);
    }

    [TestMethod]
    public void MissingTensor()
    {
        var t = new InMemoryCheckpoint("t2.safetensors").Add("layers.0.w", [2, 3], new float[6]).AddInt64("position_ids", [4], [0, 1, 2, 3]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), Model("t1.safetensors"), t));
        AssertNames(e, "t2.safetensors", "layers.0.b");
        StringAssert.Contains(e.Message, "missing");
    }

    [TestMethod]
    public void MissingTensor_FoundUnderAPrefix_SaysWhereItIs()
    {
        // What torch.save({'state_dict': sd, 'epoch': 3}) gives once flattened: every name under 'state_dict.'. With one
        // weight missing, the prefix cannot be the whole story: the error says where the names are.
        var t = new InMemoryCheckpoint("t1.ckpt").Add("state_dict.layers.0.w", [2, 3], new float[6]).Add("state_dict.layers.0.bias", [3], new float[3]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), t));
        AssertNames(e, "t1.ckpt", "layers.0.w");
        StringAssert.Contains(e.Message, "the task has 'state_dict.layers.0.w': its weights sit under the prefix 'state_dict.'");
    }

    [TestMethod]
    public void AModelClassPrefix_IsReadUnderTheBasesNames_EitherWay()
    {
        // A Hugging Face ViTModel base saves 'layers.0.w'; ViTForImageClassification fine-tunes save 'vit.layers.0.w' beside
        // an unprefixed head. Every merged weight matches once the prefix is removed: the family reads them so.
        float[] w = [1, 2, 3, 4, 5, 6];
        var prefixed = new InMemoryCheckpoint("t1.safetensors").Add("vit.layers.0.w", [2, 3], w).Add("vit.layers.0.b", [3], new float[3])
            .AddInt64("vit.position_ids", [4], [0, 1, 2, 3]).Add("classifier.weight", [2, 3], new float[6]);
        using (var family = Create(Model("base.safetensors"), prefixed))
        {
            var task = family.Tasks[0].Reader;
            Assert.IsTrue(task.TryGetTensor("layers.0.w", out var info));
            var read = new float[6];
            task.ReadFloat32(info, read);
            CollectionAssert.AreEqual(w, read);
            Assert.AreEqual("classifier.weight", family.TaskHeads["t1"].Single().Name);
            StringAssert.Contains(family.PrefixNotes["t1"], "under 'vit.'");
        }
        // The other way round: a prefixed base, an unprefixed fine-tune; its head keeps its name.
        var prefixedBase = new InMemoryCheckpoint("base.safetensors").Add("bert.layers.0.w", [2, 3], new float[6]).Add("bert.layers.0.b", [3], new float[3]);
        var bare = new InMemoryCheckpoint("t1.safetensors").Add("layers.0.w", [2, 3], w).Add("layers.0.b", [3], new float[3]).Add("classifier.weight", [2, 3], new float[6]);
        using (var family = Create(prefixedBase, bare))
        {
            Assert.IsTrue(family.Tasks[0].Reader.TryGetTensor("bert.layers.0.w", out _));
            Assert.AreEqual("classifier.weight", family.TaskHeads["t1"].Single().Name);
            StringAssert.Contains(family.PrefixNotes["t1"], "without the base's prefix 'bert.'");
        }
    }

    [TestMethod]
    public void ExtraNonHeadTensor()
    {
        var t = Model("t1.safetensors").Add("adapter.lora_A", [2, 2], new float[4]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), t));
        AssertNames(e, "t1.safetensors", "adapter.lora_A");
        StringAssert.Contains(e.Message, "classifier.*");
    }

    [TestMethod]
    public void IntegerTensorShapeMismatch()
    {
        var t = new InMemoryCheckpoint("t1.safetensors").Add("layers.0.w", [2, 3], new float[6]).Add("layers.0.b", [3], new float[3])
            .AddInt64("position_ids", [5], [0, 1, 2, 3, 4]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Create(Model("base.safetensors"), t));
        AssertNames(e, "t1.safetensors", "position_ids");
    }

    [TestMethod]
    public void DuplicateAndInvalidTaskNames()
    {
        var b = Model("base.safetensors");
        Assert.ThrowsExactly<IncompatibleModelsException>(() => ModelFamily.Create(b,
            [new TaskModel("x", Model("a.safetensors")), new TaskModel("x", Model("b.safetensors"))], new HeadFilter("classifier.*")));
        Assert.ThrowsExactly<IncompatibleModelsException>(() => ModelFamily.Create(b,
            [new TaskModel("bad/name", Model("a.safetensors"))], new HeadFilter("classifier.*")));
        Assert.ThrowsExactly<IncompatibleModelsException>(() => ModelFamily.Create(b, [], new HeadFilter("classifier.*")));
    }

    [TestMethod]
    public void HeadPatternsAreGlobs()
    {
        var h = new HeadFilter("classifier.*, score.?");
        Assert.IsTrue(h.IsHead("classifier.weight"));
        Assert.IsTrue(h.IsHead("score.w"));
        Assert.IsFalse(h.IsHead("score.weight"));
        Assert.IsFalse(h.IsHead("model.classifier.weight"));
        Assert.IsFalse(new HeadFilter("").IsHead("classifier.weight"));
    }

    [TestMethod]
    [DataRow("*.bias", "encoder.layer.0.bias", true)]
    [DataRow("*.bias", "encoder.bias.weight", false)]       // the star must leave ".bias" for the end
    [DataRow("a*b*c", "a_b_b_c", true)]                     // backtracks past the first "b"
    [DataRow("a*b*c", "a_c_b", false)]
    [DataRow("*", "", true)]
    [DataRow("?", "", false)]
    [DataRow("head.[0]", "head.[0]", true)]                 // regex metacharacters are literals
    [DataRow("head.[0]", "head.0", false)]
    [DataRow("x**y", "xy", true)]
    [DataRow("cls?*", "cls", false)]
    public void GlobMatching_IsWholeNameWithBacktrackingStars(string glob, string name, bool expected) =>
        Assert.AreEqual(expected, HeadFilter.GlobMatches(glob, name), $"{glob} ~ {name}");
}
