namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// A torch-exported ONNX encoder cannot be traced back to Hugging Face names and layouts: an initializer left unmapped,
/// a weight whose orientation the graph does not prove, or hyper-parameters that disagree with each other. The message
/// names the file, the initializer and what was expected. Internal: callers of the public API catch its base,
/// <see cref="MergeException"/>.
/// </summary>
internal sealed class OnnxImportException(string? file, string? tensor, string message)
    : MergeException(file, tensor, message);
