using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <see cref="InMemoryOnnx"/>: ONNX bytes become ML.NET's OnnxTransformer whose outputs equal ONNX Runtime's, no file
/// is left in any temp folder once it is disposed (while plain <c>ApplyOnnxModel(Stream)</c> leaves its copy), and the
/// schema-only path answers like the real transformer before any model exists.
/// </summary>
[TestClass]
public sealed class InMemoryOnnxTests
{
    private const int Rows = 5, Pixels = 3 * 8 * 8;

    private static OnnxScoringSettings VisionSettings => new() { InputColumns = ["pixel_values"], OutputColumns = ["embedding", "logits"] };

    private static int FilesUnder(string dir) => Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Count();

    [TestMethod]
    public void VisionOutputsEqualOnnxRuntime_AndNoFileOutlivesTheTransformer()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        string temp = Directory.CreateTempSubdirectory("mlnet-temp-").FullName;
        try
        {
            var ml = new MLContext(seed: 0) { TempFilePath = temp };
            float[] x = MLNetTestModels.Uniform(Rows * Pixels, seed: 4);
            var view = new ArrayDataViewBuilder().AddFloatVector("pixel_values", x, Pixels).Build();
            Assert.AreEqual(0, FilesUnder(temp));
            float[] embedding, logits;
            using (OnnxTransformer transformer = InMemoryOnnx.Create(ml, onnx, VisionSettings))
            {
                Assert.IsLessThanOrEqualTo(1, FilesUnder(temp), "only the loaded transformer's own copy may exist while it lives");
                var scored = transformer.Transform(view);
                embedding = [.. scored.GetColumn<float[]>("embedding").SelectMany(r => r)];
                logits = [.. scored.GetColumn<float[]>("logits").SelectMany(r => r)];
            }
            Assert.AreEqual(0, FilesUnder(temp), "a file was left in the context's temp folder: " + string.Join(", ", Directory.EnumerateFileSystemEntries(temp)));

            var reference = OnnxRuntimeDirect.Run(onnx, new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, [Rows, 3, 8, 8]) });
            Assert.AreEqual(Rows * 16, embedding.Length);
            Assert.IsLessThan(1e-5, OnnxRuntimeDirect.MaxAbsDiff(reference["embedding"], embedding));
            Assert.IsLessThan(1e-5, OnnxRuntimeDirect.MaxAbsDiff(reference["logits"], logits));
        }
        finally { Directory.Delete(temp, recursive: true); }
    }

    [TestMethod]
    public void ATransformerNobodyDisposes_HasItsCopyDeletedAtExit()
    {
        // The exit hook's work (AppDomain.ProcessExit runs TempCopyCleanup.DisposeLive): a dropped transformer's copy goes.
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        string temp = Directory.CreateTempSubdirectory("mlnet-temp-").FullName;
        try
        {
            var ml = new MLContext(seed: 0) { TempFilePath = temp };
            var dropped = InMemoryOnnx.Create(ml, onnx, VisionSettings);    // never disposed by its user
            Assert.AreEqual(1, FilesUnder(temp), "the loaded transformer's copy");
            TempCopyCleanup.DisposeLive(t => ReferenceEquals(t, dropped));   // only this test's (others run in parallel)
            Assert.AreEqual(0, FilesUnder(temp), "the copy outlived the exit cleanup");
            GC.KeepAlive(dropped);
        }
        finally { Directory.Delete(temp, recursive: true); }
    }

    [TestMethod]
    public void PlainApplyOnnxModelFromAStream_LeavesItsCopyBehind()
    {
        // The trap the work-around exists for (ML.NET 6.0.0). If this starts failing, ML.NET fixed it.
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        string temp = Directory.CreateTempSubdirectory("mlnet-temp-").FullName;
        try
        {
            var ml = new MLContext(seed: 0) { TempFilePath = temp };
            var empty = new ArrayDataViewBuilder().AddFloatVector("pixel_values", [], Pixels).Build();
            using (var stream = new MemoryStream(onnx))
            using (var t = ml.Transforms.ApplyOnnxModel(["embedding"], ["pixel_values"], stream, null, null, false, 100).Fit(empty)) { }
            Assert.AreEqual(1, FilesUnder(temp));
        }
        finally { Directory.Delete(temp, recursive: true); }
    }

    [TestMethod]
    public void SchemaOnly_MatchesTheRealTransformer_AndLeavesNothing()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        string temp = Directory.CreateTempSubdirectory("mlnet-temp-").FullName;
        try
        {
            var ml = new MLContext(seed: 0) { TempFilePath = temp };
            var input = SchemaShapes.Of(new ArrayDataViewBuilder().AddFloatVector("pixel_values", [], Pixels).AddText("Name", []).Build().Schema);
            // What an estimator knows before it merges anything: the architecture's input and the head's width.
            var declared = new OnnxSignature(
                [new OnnxTensorSpec("pixel_values", OnnxElementType.Float, [-1, 3, 8, 8])],
                [new OnnxTensorSpec("embedding", OnnxElementType.Float, [-1, 16]), new OnnxTensorSpec("logits", OnnxElementType.Float, [-1, 3])]);
            Assert.AreEqual(declared.Outputs.Count, OnnxSignature.Read(onnx).Outputs.Count);
            SchemaShape early = InMemoryOnnx.OutputSchema(ml, declared, VisionSettings, input);
            using var real = InMemoryOnnx.Create(ml, onnx, VisionSettings);
            SchemaShape late = SchemaShapes.Of(real.GetOutputSchema(new ArrayDataViewBuilder().AddFloatVector("pixel_values", [], Pixels).AddText("Name", []).Build().Schema));
            string Describe(SchemaShape s) => string.Join("; ", s.Select(c => $"{c.Name}:{c.Kind}:{c.ItemType}:{c.IsKey}"));
            Assert.AreEqual(Describe(late), Describe(early));
            StringAssert.Contains(Describe(early), "logits:Vector:Single:False");
            real.Dispose();
            Assert.AreEqual(0, FilesUnder(temp));
        }
        finally { Directory.Delete(temp, recursive: true); }
    }

    [TestMethod]
    public void TextEncoder_NeedsTheShapeDictionary_AndThenEqualsOnnxRuntime()
    {
        byte[] onnx = MLNetTestModels.TinyBert(out _);
        const int t = 6;
        var (ids, mask) = Tests.Onnx.OnnxExportTests.TextInputs(Tests.Onnx.OnnxExportTests.Bert, seed: 3); // (3, 6) with padding
        var view = new ArrayDataViewBuilder().AddInt64Vector("input_ids", ids, t).AddInt64Vector("attention_mask", mask, t).Build();
        var ml = new MLContext(seed: 0);
        var settings = new OnnxScoringSettings
        {
            InputColumns = ["input_ids", "attention_mask"], OutputColumns = ["embedding", "logits"],
            ShapeDictionary = new Dictionary<string, int[]> { ["input_ids"] = [1, t], ["attention_mask"] = [1, t] },
        };
        using var transformer = InMemoryOnnx.Create(ml, onnx, settings);
        float[] embedding = [.. transformer.Transform(view).GetColumn<float[]>("embedding").SelectMany(r => r)];
        var reference = OnnxRuntimeDirect.Run(onnx, new Dictionary<string, (float[], int[])>(),
            new Dictionary<string, (long[], int[])> { ["input_ids"] = (ids, [3, t]), ["attention_mask"] = (mask, [3, t]) });
        Assert.IsLessThan(1e-5, OnnxRuntimeDirect.MaxAbsDiff(reference["embedding"], embedding));

        // Without the shape dictionary the symbolic sequence axis counts as 1: ML.NET refuses the 6-wide columns.
        var without = new OnnxScoringSettings { InputColumns = settings.InputColumns, OutputColumns = settings.OutputColumns };
        using var unshaped = InMemoryOnnx.Create(ml, onnx, without);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => unshaped.Transform(view).GetColumn<float[]>("embedding").ToList());
        StringAssert.Contains(e.InnerException?.Message, "must match product of dimensions");
    }

    [TestMethod]
    public void GpuRequestWithFallback_RunsOnCpu_WithoutFallbackFailsInOneLine_AndRestoresTheContextsDevice()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        string temp = Directory.CreateTempSubdirectory("mlnet-temp-").FullName;
        var ml = new MLContext(seed: 0) { TempFilePath = temp };
        float[] x = MLNetTestModels.Uniform(Rows * Pixels, seed: 9);
        var view = new ArrayDataViewBuilder().AddFloatVector("pixel_values", x, Pixels).Build();
        var settings = new OnnxScoringSettings { InputColumns = ["pixel_values"], OutputColumns = ["logits"], GpuDeviceId = 0, FallbackToCpu = true };
        float[] logits;
        using (var transformer = InMemoryOnnx.Create(ml, onnx, settings))
            logits = [.. transformer.Transform(view).GetColumn<float[]>("logits").SelectMany(r => r)];
        Assert.AreEqual(0, FilesUnder(temp), "the failed GPU attempt left a file");
        var reference = OnnxRuntimeDirect.Run(onnx, new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, [Rows, 3, 8, 8]) });
        Assert.IsLessThan(1e-5, OnnxRuntimeDirect.MaxAbsDiff(reference["logits"], logits));
        Assert.IsNull(ml.GpuDeviceId);
        Assert.IsFalse(ml.FallbackToCpu);

        // The test machines load the CPU package (no CUDA provider): without fallback the request is refused.
        var strict = new OnnxScoringSettings { InputColumns = ["pixel_values"], OutputColumns = ["logits"], GpuDeviceId = 0 };
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => InMemoryOnnx.Create(ml, onnx, strict));
        StringAssert.Contains(e.Message, "GPU 0 was requested, but the ONNX Runtime native library has no CUDA provider");
        Assert.IsNull(ml.GpuDeviceId);
        Assert.AreEqual(0, FilesUnder(temp), "the refused GPU request left a file");
        Directory.Delete(temp, recursive: true);
    }

    [TestMethod]
    public void UnknownColumn_IsAOneLineError()
    {
        byte[] onnx = MLNetTestModels.TinyVit(out _);
        var e = Assert.ThrowsExactly<ArgumentException>(() => InMemoryOnnx.Create(new MLContext(0), onnx,
            new OnnxScoringSettings { InputColumns = ["pixels"], OutputColumns = ["logits"] }));
        StringAssert.Contains(e.Message, "input column 'pixels' is not a graph input; the model's inputs are pixel_values");
    }
}
