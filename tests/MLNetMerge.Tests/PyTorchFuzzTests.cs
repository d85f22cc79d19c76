using System.IO.Compression;
using MLNetMerge.Checkpoints.PyTorch;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// Damaged inputs must fail only with <see cref="CheckpointFormatException"/>: random byte changes (fixed seed) to whole
/// checkpoint files and to the pickles themselves (past the CRC check), each either loading or being refused cleanly.
/// </summary>
[TestClass]
public sealed class PyTorchFuzzTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch", name);

    [TestMethod]
    [DataRow("dtypes.pt")]
    [DataRow("views.pt")]
    [DataRow("module.pt")]
    [DataRow("legacy.pt")]
    [DataRow("legacy_module.pt")]
    [DataRow("zip64.pt")]
    public void MutatedFilesFailOnlyWithCheckpointFormatException(string fixture)
    {
        byte[] original = File.ReadAllBytes(Fixture(fixture));
        var rng = new Random(1234);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetmerge-fuzz-{Guid.NewGuid():N}.pt");
        var unexpected = new List<string>();
        try
        {
            for (int trial = 0; trial < 300; trial++)
            {
                byte[] bytes = (byte[])original.Clone();
                int changes = 1 + rng.Next(4);
                for (int c = 0; c < changes; c++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                File.WriteAllBytes(path, bytes);
                string? failure = OpenAndReadAll(path);
                if (failure is not null) unexpected.Add($"trial {trial}: {failure}");
            }
        }
        finally { File.Delete(path); }
        Assert.AreEqual(0, unexpected.Count, string.Join("\n", unexpected.Take(5)));
    }

    [TestMethod]
    [DataRow("dtypes.pt")]
    [DataRow("module.pt")]
    [DataRow("nested.pt")]
    public void MutatedPicklesFailOnlyWithCheckpointFormatException(string fixture)
    {
        byte[] pickle;
        using (var zip = ZipFile.OpenRead(Fixture(fixture)))
        {
            var entry = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            pickle = ms.ToArray();
        }
        var rng = new Random(99);
        var unexpected = new List<string>();
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] bytes = (byte[])pickle.Clone();
            int changes = 1 + rng.Next(3);
            for (int c = 0; c < changes; c++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            if (rng.Next(4) == 0) bytes = bytes[..rng.Next(bytes.Length)];
            try
            {
                object? root = RestrictedUnpickler.Load(bytes, "fuzz.pt", "archive/data.pkl", new TorchPickleRebuild("fuzz.pt"));
                TorchStateDictFlattener.Flatten(root, "fuzz.pt");
            }
            catch (CheckpointFormatException) { }
            catch (Exception e) { unexpected.Add($"trial {trial}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
        }
        Assert.AreEqual(0, unexpected.Count, string.Join("\n", unexpected.Take(3)));
    }

    /// <summary>Opens the file and reads every tensor; returns a description of any exception other than CheckpointFormatException.</summary>
    private static string? OpenAndReadAll(string path)
    {
        try
        {
            using var reader = PyTorchCheckpointReader.Open(path);
            foreach (var t in reader.Tensors)
            {
                byte[] raw = new byte[t.ByteLength];
                reader.ReadRaw(t, raw);
                if (t.DType.IsFloatingPoint()) reader.ReadFloat32(t, new float[t.ElementCount]);
            }
            return null;
        }
        catch (CheckpointFormatException) { return null; }
        catch (Exception e) { return $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}"; }
    }
}
