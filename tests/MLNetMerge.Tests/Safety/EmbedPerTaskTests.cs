using MLNetMerge.Data;
using static MLNetMerge.Tests.Safety.CliProcess;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// <c>embed OUTPUT --task T</c> on a merge whose tasks run their own weights ran the shared weights with T's head (EMR's
/// fashion scored 29 % where its own weights score 52 %, silently). It now runs T's own weights: materialized, or rebuilt
/// from EMR's masks and rescalers with the recorded base — the same logits as the materialized file — and refuses when
/// neither is possible.
/// </summary>
[TestClass]
public sealed class EmbedPerTaskTests
{
    private string _dir = "";

    private static string Vision => ZooPaths.Vision;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-embed-task-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    /// <summary>A two-task recipe of <paramref name="method"/> over the vision zoo; returns its path.</summary>
    private string Recipe(string method)
    {
        string path = Path.Combine(_dir, method + ".yaml");
        File.WriteAllText(path, $"method: {method}\nbase: {Vision}/base.safetensors\nmodels:\n  - {{ name: fashion, path: {Vision}/fashion.safetensors }}\n" +
            $"  - {{ name: digits, path: {Vision}/digits.safetensors }}\n");
        return path;
    }

    private float[] Embed(params string[] args)
    {
        string output = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".npy");
        Succeed(["embed", .. args, "--input", Path.Combine(Vision, "fashion", "test_images.npy"), "--pixels", "zoo", "-o", output]);
        return NpyFile.ReadFloat32(output).Data;
    }

    [TestMethod]
    public void Emr_RunsTheTasksOwnWeights_MaterializedOrRebuilt()
    {
        string plain = Path.Combine(_dir, "emr"), materialized = Path.Combine(_dir, "emr-m");
        Succeed("merge", Recipe("emr"), "-o", plain);
        Succeed("merge", Recipe("emr"), "-o", materialized, "--materialize", "fashion");
        float[] own = Embed(Path.Combine(materialized, "tasks", "fashion.safetensors"), "--config", Path.Combine(materialized, "config.json"),
            "--head", Path.Combine(materialized, "heads.safetensors"), "--task", "fashion");
        float[] shared = Embed(Path.Combine(plain, "model.safetensors"), "--head", Path.Combine(plain, "heads.safetensors"), "--task", "fashion");
        Assert.IsFalse(own.SequenceEqual(shared), "the shared weights give other logits: the test would not see the bug");
        CollectionAssert.AreEqual(own, Embed(materialized, "--task", "fashion"), "materialized");
        CollectionAssert.AreEqual(own, Embed(plain, "--task", "fashion"), "rebuilt from the masks and the recorded base");
    }

    [TestMethod]
    public void APerTaskMergeWithoutItsTasksWeights_IsRefused()
    {
        string output = Path.Combine(_dir, "ci");
        Succeed("merge", Recipe("cart_indexing"), "-o", output);
        string input = Path.Combine(Vision, "fashion", "test_images.npy");
        StringAssert.Contains(AssertOneLine(Run("embed", output, "--task", "fashion", "--input", input, "--pixels", "zoo", "-o", Path.Combine(_dir, "y.npy"))),
            "gives each task its own weights (cart_indexing), and task 'fashion''s are not in it: merge with --materialize fashion");
    }
}
