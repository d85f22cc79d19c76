namespace MLNetMerge.Checkpoints;

/// <summary>Opens any supported checkpoint by looking at its path.</summary>
public static class CheckpointReader
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<string, ICheckpointReader>> RegisteredFormats =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Registers an opener for files whose name ends in <paramref name="extension"/> (e.g. <c>.onnx</c>), for formats
    /// that live in other assemblies (MLNetMerge.Onnx). Nothing registers itself: a host (the CLI, a test, an
    /// application) calls this explicitly at startup. Registering an extension again replaces its opener.
    /// </summary>
    /// <param name="extension">The file name ending, with its dot (compared case-insensitively).</param>
    /// <param name="open">Opens a file of that format; it throws <see cref="CheckpointFormatException"/> for malformed files.</param>
    public static void RegisterFormat(string extension, Func<string, ICheckpointReader> open)
    {
        ArgumentException.ThrowIfNullOrEmpty(extension);
        ArgumentNullException.ThrowIfNull(open);
        if (extension[0] != '.') throw new ArgumentException($"extension '{extension}' must start with a dot.", nameof(extension));
        RegisteredFormats[extension] = open;
    }

    /// <summary>
    /// Opens <paramref name="path"/>: a <c>.safetensors</c> file, a <c>model.safetensors.index.json</c>, a PyTorch
    /// <c>.bin</c>/<c>.pt</c>/<c>.pth</c> file, or a directory holding one of <c>model.safetensors.index.json</c>,
    /// <c>model.safetensors</c>, <c>pytorch_model.bin</c>; or a file of a format added with <see cref="RegisterFormat"/>.
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
        foreach (var (extension, open) in RegisteredFormats)
            if (lower.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) return open(path);
        if (lower.EndsWith(".onnx", StringComparison.Ordinal))
            throw new CheckpointFormatException(path, null, "ONNX models are read by MLNetMerge.Onnx: register it first with MLNetMerge.Onnx.OnnxFormat.Register().");
        if (lower.EndsWith(".index.json", StringComparison.Ordinal)) return ShardedSafetensorsReader.Open(path, options);
        if (lower.EndsWith(".bin", StringComparison.Ordinal) || lower.EndsWith(".pt", StringComparison.Ordinal) || lower.EndsWith(".pth", StringComparison.Ordinal))
            return OpenPyTorch(path);
        return SafetensorsReader.Open(path, options);
    }

    private static ICheckpointReader OpenPyTorch(string path) => PyTorch.PyTorchCheckpointReader.Open(path);
}
