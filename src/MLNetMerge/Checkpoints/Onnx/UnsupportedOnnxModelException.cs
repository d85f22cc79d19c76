namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>
/// An ONNX model uses something MLNetMerge cannot merge or rebuild faithfully: a quantized operator (its weights are
/// integers with scales, not values a merge method may average), a custom-domain operator, or a control-flow operator
/// whose subgraphs carry their own initializers. The message names the file, the node and its operator.
/// </summary>
/// <param name="file">The model file.</param>
/// <param name="message">Which node, which operator, and what is supported.</param>
internal sealed class UnsupportedOnnxModelException(string? file, string message) : MergeException(file, null, message);
