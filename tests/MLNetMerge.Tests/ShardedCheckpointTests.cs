using System.Text.Json;
using MLNetMerge.Checkpoints;

namespace MLNetMerge.Tests;

/// <summary>
/// A sharded PyTorch checkpoint (<c>pytorch_model.bin.index.json</c> over torch.save shards,
/// tools/make_sharded_torch_fixture.py) reads like a sharded safetensors one: it was refused as "a zip archive, not a
/// checkpoint" through its index and not found in its folder (found by a command-line trial).
/// </summary>
[TestClass]
public sealed class ShardedCheckpointTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch", "sharded");

    [TestMethod]
    [DataRow("pytorch_model.bin.index.json")]
    [DataRow("")]
    public void TheIndexAndItsFolder_ReadEveryTensorFromItsShard(string file)
    {
        using var reader = CheckpointReader.Open(file.Length == 0 ? Folder : Path.Combine(Folder, file));
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")));
        var names = expected.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        CollectionAssert.AreEquivalent(names, reader.Tensors.Select(t => t.Name).ToList());
        foreach (var p in expected.RootElement.EnumerateObject())
        {
            Assert.IsTrue(reader.TryGetTensor(p.Name, out var info), p.Name);
            CollectionAssert.AreEqual(p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(), info.Shape, p.Name);
            if (p.Name == "position_ids") continue; // an integer buffer: read raw
            var values = new float[info.ElementCount];
            reader.ReadFloat32(info, values);
            CollectionAssert.AreEqual(p.Value.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(), values, p.Name);
        }
        Assert.IsTrue(reader.TryGetTensor("position_ids", out var ids));
        var raw = new byte[ids.ByteLength];
        reader.ReadRaw(ids, raw);
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 3, 4 }, Enumerable.Range(0, 5).Select(i => BitConverter.ToInt64(raw, 8 * i)).ToArray());
    }
}
