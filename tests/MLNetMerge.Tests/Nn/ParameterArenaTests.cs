using MLNetMerge.Checkpoints;
using MLNetMerge.Nn;

namespace MLNetMerge.Tests.Nn;

[TestClass]
public sealed class ParameterArenaTests
{
    private static ParameterLayout TwoTensors()
    {
        var layout = new ParameterLayout();
        layout.Add("fc.weight", 2, 3);
        layout.Add("fc.bias", 2);
        return layout;
    }

    [TestMethod]
    public void Layout_PlacesTensorsBackToBack()
    {
        var layout = TwoTensors();
        Assert.AreEqual(0, layout.Entries[0].Offset);
        Assert.AreEqual(6, layout.Entries[1].Offset);
        Assert.AreEqual(8, layout.TotalLength);
        Assert.AreEqual(1, layout.IndexOf("fc.bias"));
        Assert.ThrowsExactly<ArgumentException>(() => layout.Add("fc.bias", 2));
    }

    [TestMethod]
    public void Load_CopiesValues_SkipsOtherPrefixesAndIgnoredBuffers()
    {
        var arena = new ParameterArena(TwoTensors());
        var ckpt = new InMemoryCheckpoint()
            .Add("enc.fc.weight", [2, 3], [1, 2, 3, 4, 5, 6])
            .Add("enc.fc.bias", [2], [7, 8])
            .AddInt64("enc.position_ids", [1, 4], [0, 1, 2, 3])
            .Add("classifier.weight", [5, 2], new float[10]);
        arena.Load(ckpt, "test", "enc.", n => n.EndsWith("position_ids", StringComparison.Ordinal));
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, arena.Values);
        arena.Gradient("fc.bias")[1] = 3;
        arena.ZeroGrad();
        Assert.AreEqual(0f, arena.Gradients[7]);
    }

    [TestMethod]
    public void Load_ListsMissingUnexpectedAndMisShaped()
    {
        var arena = new ParameterArena(TwoTensors());
        var ckpt = new InMemoryCheckpoint("model.safetensors")
            .Add("fc.weight", [3, 2], new float[6])
            .Add("fc.extra", [1], new float[1]);
        var e = Assert.ThrowsExactly<ArchitectureMismatchException>(() => arena.Load(ckpt, "mlp"));
        CollectionAssert.AreEqual(new[] { "fc.bias" }, e.Missing.ToArray());
        CollectionAssert.AreEqual(new[] { "fc.extra" }, e.Unexpected.ToArray());
        Assert.AreEqual(("fc.weight", "[3, 2]", "[2, 3]"), e.MisShaped.Single());
        StringAssert.Contains(e.Message, "model.safetensors");
        StringAssert.Contains(e.Message, "fc.weight is [3, 2], expected [2, 3]");
    }

    [TestMethod]
    public void ActivationArena_ReusesOneBuffer()
    {
        var arena = new ActivationArena();
        var a = arena.Reserve(4);
        var b = arena.Reserve(3);
        Assert.AreEqual(7, arena.Length);
        arena.Span(a).Fill(1);
        arena.Span(b).Fill(2);
        Assert.AreEqual(1f, arena.Span(a)[3]);
        Assert.AreEqual(2f, arena.Span(b)[0]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => arena.Span(b, 4));
        arena.Reset();
        var c = arena.Reserve(10);
        Assert.AreEqual(0, c.Offset);
        Assert.AreEqual(10, arena.Span(c).Length);
    }
}
