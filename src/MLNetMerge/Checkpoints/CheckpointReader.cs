namespace MLNetMerge.Checkpoints;

/// <summary>Opens any supported checkpoint by looking at its path.</summary>
internal static class CheckpointReader
{
    /// <summary>
    /// Opens <paramref name="path"/>: a <c>.safetensors</c> file, a <c>model.safetensors.index.json</c>, a PyTorch
    /// <c>.bin</c>/<c>.pt</c>/<c>.pth</c> file, or a directory holding one of <c>model.safetensors.index.json</c>,
    /// <c>model.safetensors</c>, <c>pytorch_model.bin</c>; or an <c>.onnx</c> model (its initializers, <see cref="Onnx.OnnxCheckpointReader"/>).
    /// </summary>
    /// <exception cref="CheckpointFormatException">Nothing readable is found, or the file is malformed.</exception>
    public static ICheckpointReader Open(string path, SafetensorsReaderOptions? options = null)
    {
        if (Directory.Exists(path))
        {
            foreach (var name in new[] { "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin" })
            {
                string candidate = Path.Combine(path, name);
                if (File.Exists(candidate)) return Open(candidate, options);
            }
            throw new CheckpointFormatException(path, null, "directory holds no model.safetensors.index.json, model.safetensors or pytorch_model.bin.");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        string lower = path.ToLowerInvariant();
        if (Onnx.OnnxFormat.IsOnnxPath(path)) return Onnx.OnnxCheckpointReader.Open(path);
        if (lower.EndsWith(".index.json", StringComparison.Ordinal)) return ShardedSafetensorsReader.Open(path, options);
        if (lower.EndsWith(".bin", StringComparison.Ordinal) || lower.EndsWith(".pt", StringComparison.Ordinal) || lower.EndsWith(".pth", StringComparison.Ordinal))
            return OpenPyTorch(path);
        return SafetensorsReader.Open(path, options);
    }

    private static ICheckpointReader OpenPyTorch(string path) => PyTorch.PyTorchCheckpointReader.Open(path);
}
