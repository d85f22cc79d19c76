namespace MLNetMerge.Checkpoints;

/// <summary>Opens any supported checkpoint by looking at its path.</summary>
internal static class CheckpointReader
{
    /// <summary>
    /// Opens <paramref name="path"/>: a <c>.safetensors</c> file, a <c>model.safetensors.index.json</c>, a PyTorch
    /// <c>.bin</c>/<c>.pt</c>/<c>.pth</c> file, or a directory holding one of <c>model.safetensors.index.json</c>,
    /// <c>model.safetensors</c>, <c>pytorch_model.bin</c>; or an <c>.onnx</c> model: a torch-exported BERT, ViT or CLIP vision
    /// encoder under the Hugging Face names and layouts its graph proves (<see cref="Onnx.Import.ImportedOnnxCheckpoints"/>),
    /// any other model as its initializers (<see cref="Onnx.OnnxCheckpointReader"/>).
    /// </summary>
    /// <exception cref="CheckpointFormatException">Nothing readable is found, or the file is malformed.</exception>
    public static ICheckpointReader Open(string path, SafetensorsReaderOptions? options = null)
    {
        if (Directory.Exists(path))
        {
            foreach (var name in new[] { "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin" })
            {
                string candidate = Path.Combine(path, name);
                if (File.Exists(candidate)) return Open(candidate, options);
            }
            throw new CheckpointFormatException(path, null, "directory holds no model.safetensors.index.json, model.safetensors, pytorch_model.bin.index.json or pytorch_model.bin.");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        // Before any open: opening a named pipe blocks until something writes to it, and a device has no length.
        if (new FileInfo(path).Length == 0)
            throw new CheckpointFormatException(path, null, "is empty (0 bytes), or not a regular file (a named pipe or a device); a checkpoint is a file of tensors.");
        string lower = path.ToLowerInvariant();
        if (Onnx.OnnxFormat.IsOnnxPath(path)) return Onnx.Import.ImportedOnnxCheckpoints.Open(path);
        if (lower.EndsWith(".index.json", StringComparison.Ordinal)) return ShardedCheckpointReader.Open(path, options);
        if (PyTorch.PyTorchCheckpointReader.IsPyTorchPath(path)) return OpenPyTorch(path);
        return SafetensorsReader.Open(path, options);
    }

    private static ICheckpointReader OpenPyTorch(string path) => PyTorch.PyTorchCheckpointReader.Open(path);
}
