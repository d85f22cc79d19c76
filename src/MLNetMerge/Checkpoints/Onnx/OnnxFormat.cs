using MLNetMerge.Checkpoints;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>Facts about ONNX model files (<see cref="CheckpointReader.Open"/> reads <c>.onnx</c> paths through <see cref="OnnxCheckpointReader"/>).</summary>
internal static class OnnxFormat
{
    /// <summary>The file extension of ONNX models.</summary>
    public const string Extension = ".onnx";

    /// <summary>This assembly's version, written as <c>producer_version</c> of the models it writes.</summary>
    public static string ProducerVersion { get; } = typeof(OnnxFormat).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>True when <paramref name="path"/> names an ONNX model file.</summary>
    public static bool IsOnnxPath(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);
}
