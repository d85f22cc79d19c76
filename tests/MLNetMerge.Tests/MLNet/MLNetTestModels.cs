using MLNetMerge.Merging;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Tests.Onnx;
using MLNetMerge.Export;

namespace MLNetMerge.Tests.MLNet;

/// <summary>Merged models exported to ONNX bytes with the engine's exporter (OnnxExport.Write), for the ML.NET blocks' tests.</summary>
internal static class MLNetTestModels
{
    /// <summary>Exports <paramref name="task"/> of <paramref name="merged"/> through OnnxExport.Write into a temp folder and returns the bytes (the folder is deleted).</summary>
    public static byte[] ExportTask(MergedModel merged, string task, OnnxExportOptions options)
    {
        string dir = Directory.CreateTempSubdirectory("mlnet-export-").FullName;
        try
        {
            string outDir = Path.Combine(dir, "onnx");
            OnnxExport.Write(merged, outDir, options);
            return File.ReadAllBytes(Path.Combine(outDir, task + ".onnx"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The tiny ViT family of the export tests (8×8×3, width 16; tasks a: 3 classes, b: 5), task arithmetic 0.5, task <c>a</c>.</summary>
    public static byte[] TinyVit(out MergedModel merged)
    {
        using var family = OnnxExportTests.Family(OnnxExportTests.Vit, seed: 11);
        merged = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.5 });
        return ExportTask(merged, "a", new OnnxExportOptions { Architecture = OnnxExportTests.Vit });
    }

    /// <summary>The tiny BERT family of the export tests (vocabulary 30, width 16), TIES, task <c>a</c>.</summary>
    public static byte[] TinyBert(out MergedModel merged)
    {
        using var family = OnnxExportTests.Family(OnnxExportTests.Bert, seed: 13);
        merged = EngineRuns.Merge(family, new TiesOptions { Keep = 0.5, Scale = 1.0 });
        return ExportTask(merged, "a", new OnnxExportOptions { Architecture = OnnxExportTests.Bert });
    }

    /// <summary>Random inputs in [−1, 1) of <paramref name="count"/> values.</summary>
    public static float[] Uniform(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
    }
}
