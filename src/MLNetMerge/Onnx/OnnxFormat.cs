using MLNetMerge.Checkpoints;

namespace MLNetMerge.Onnx;

/// <summary>Makes <see cref="CheckpointReader.Open"/> read <c>.onnx</c> files through <see cref="OnnxCheckpointReader"/>.</summary>
public static class OnnxFormat
{
    /// <summary>The file extension of ONNX models.</summary>
    public const string Extension = ".onnx";

    /// <summary>This assembly's version, written as <c>producer_version</c> of the models it writes.</summary>
    public static string ProducerVersion { get; } = typeof(OnnxFormat).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>
    /// Registers the ONNX reader for <c>.onnx</c> paths: torch-exported BERT, ViT and CLIP vision encoders are imported
    /// under Hugging Face names and layouts, other models are read as their initializers (<see cref="OnnxCheckpointReader"/>).
    /// Call it once at startup (the CLI does); nothing registers itself. Calling it again is harmless.
    /// </summary>
    public static void Register() => CheckpointReader.RegisterFormat(Extension, Import.ImportedOnnxCheckpoints.Open);

    /// <summary>True when <paramref name="path"/> names an ONNX model file.</summary>
    public static bool IsOnnxPath(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);
}
