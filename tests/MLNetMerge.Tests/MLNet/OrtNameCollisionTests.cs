using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <see cref="OrtNameCollision"/>: a valid ONNX model in a file whose name ends in <c>.ort</c> really fails in ONNX
/// Runtime (the one-in-32 768 name ML.NET can draw for its temp copy); the failure is recognised through ML.NET's
/// wrapping; a retried load succeeds and only the copy the failed try left is deleted.
/// </summary>
[TestClass]
public sealed class OrtNameCollisionTests
{
    private const int Pixels = 3 * 8 * 8;

    private static IDataView Empty => new ArrayDataViewBuilder().AddFloatVector("pixel_values", [], Pixels).Build();

    /// <summary>Runs <paramref name="test"/> in a fresh temp folder, deleted afterwards.</summary>
    private static void InTempFolder(Action<string> test)
    {
        string temp = Directory.CreateTempSubdirectory("ort-name-").FullName;
        try { test(temp); }
        finally { Directory.Delete(temp, recursive: true); }
    }

    private static OnnxTransformer ApplyFromFile(string path) =>
        new MLContext(seed: 0).Transforms.ApplyOnnxModel(["embedding"], ["pixel_values"], path, null, false).Fit(Empty);

    [TestMethod]
    public void AValidModelNamedDotOrt_FailsInOnnxRuntime_AndIsRecognised()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        InTempFolder(temp =>
        {
            string ort = Path.Combine(temp, "abcdefgh.ort"), plain = Path.Combine(temp, "abcdefgh.onx");
            File.WriteAllBytes(ort, onnx);
            File.WriteAllBytes(plain, onnx);
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => ApplyFromFile(ort));
            Assert.IsTrue(OrtNameCollision.IsCollision(e), e.ToString());
            using (ApplyFromFile(plain)) { }

            File.WriteAllBytes(plain, [1, 2, 3, 4, 5]);
            var other = Assert.Throws<Exception>(() => ApplyFromFile(plain));
            Assert.IsFalse(OrtNameCollision.IsCollision(other), "bytes that are not a model are another failure: " + other);
            Assert.IsFalse(OrtNameCollision.IsCollision(new IOException("ORT model verification failed")), "only ONNX Runtime's own exception counts");
        });
    }

    [TestMethod]
    public void Retry_LoadsAgainUnderAnotherName_AndDeletesOnlyTheCopyTheFailedTryLeft()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        InTempFolder(temp =>
        {
            string unrelated = Path.Combine(temp, "other000.ort"), sameBytesBefore = Path.Combine(temp, "before00.ort");
            File.WriteAllBytes(unrelated, [.. onnx.Take(onnx.Length - 1)]);
            File.WriteAllBytes(sameBytesBefore, onnx);
            string[] names = ["collide1.ort", "fine0001.onx"];
            int tries = 0;
            using var loaded = OrtNameCollision.Retry(temp, onnx, () =>
            {
                string path = Path.Combine(temp, names[tries++]);
                File.WriteAllBytes(path, onnx);
                return ApplyFromFile(path);
            });
            Assert.AreEqual(2, tries);
            Assert.IsFalse(File.Exists(Path.Combine(temp, "collide1.ort")), "the failed try's copy is deleted");
            Assert.IsTrue(File.Exists(unrelated), "a .ort file with other bytes is not ours");
            Assert.IsTrue(File.Exists(sameBytesBefore), "a .ort file that was there before is not ours");
            Assert.IsTrue(File.Exists(Path.Combine(temp, "fine0001.onx")));
            Assert.AreEqual(16, ((VectorDataViewType)loaded.GetOutputSchema(Empty.Schema)["embedding"].Type).Size);
        });
    }

    [TestMethod]
    public void Retry_GivesUpAfterItsAttempts_AndPassesOtherFailuresOnAtOnce()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        InTempFolder(temp =>
        {
            int tries = 0;
            Assert.Throws<Exception>(() => OrtNameCollision.Retry(temp, onnx, () =>
            {
                string path = Path.Combine(temp, $"always{tries++:00}.ort");
                File.WriteAllBytes(path, onnx);
                return ApplyFromFile(path);
            }));
            Assert.AreEqual(OrtNameCollision.Attempts, tries);
            Assert.AreEqual(0, Directory.EnumerateFiles(temp).Count(), "every failed try's copy is deleted, the last one too");

            tries = 0;
            Assert.ThrowsExactly<FormatException>(() => OrtNameCollision.Retry<int>(temp, onnx, () => { tries++; throw new FormatException(); }));
            Assert.AreEqual(1, tries);
        });
    }
}
