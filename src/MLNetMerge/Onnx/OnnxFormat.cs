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
    /// Registers <see cref="OnnxCheckpointReader"/> for <c>.onnx</c> paths. Call it once at startup (the CLI does);
    /// nothing registers itself. Calling it again is harmless.
    /// </summary>
    public static void Register() => CheckpointReader.RegisterFormat(Extension, OnnxCheckpointReader.Open);

    /// <summary>True when <paramref name="path"/> names an ONNX model file.</summary>
    public static bool IsOnnxPath(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);
}
