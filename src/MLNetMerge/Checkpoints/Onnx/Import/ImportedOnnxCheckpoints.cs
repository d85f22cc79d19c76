using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// How ONNX files enter merges: a torch-exported encoder (an encoder embedding tensor, and Linear weights that torch
/// folded into anonymous initializers) is opened through <see cref="TorchEncoderImporter"/>, so recipes and families see
/// Hugging Face names and <c>[out, in]</c> layouts (name-based methods such as CART's block matrices, evaluation and
/// alignment then work as on safetensors); any other ONNX file is opened as its initializers
/// (<see cref="OnnxCheckpointReader"/>). Merged values go back into such a graph through <see cref="WriteBackSource"/>,
/// which transposes each weight back to the orientation its initializer was stored in.
/// </summary>
internal static class ImportedOnnxCheckpoints
{
    /// <summary>Metadata key set on imported readers.</summary>
    public const string ImportedKey = "onnx.imported_from";

    /// <summary>Opens <paramref name="path"/>: imported when it is a torch-exported encoder, else its initializers.</summary>
    /// <exception cref="OnnxImportException">It looks like a torch-exported encoder but does not import.</exception>
    public static ICheckpointReader Open(string path)
    {
        var raw = OnnxCheckpointReader.Open(path);
        if (!IsTorchExport(raw)) return raw;
        try
        {
            var imported = TorchEncoderImporter.Import(raw);
            foreach (var (k, v) in raw.Metadata) imported.Tensors.WithMetadata(k, v);
            imported.Tensors.WithMetadata(ImportedKey, path);
            return imported.Tensors;
        }
        finally { raw.Dispose(); }
    }

    /// <summary>True for an encoder graph (see <see cref="TorchEncoderImporter.LooksLikeEncoder"/>) with at least one Linear
    /// weight under an anonymous name (graphs whose weights all keep their state-dict names are merged as they are).</summary>
    public static bool IsTorchExport(OnnxCheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (!TorchEncoderImporter.LooksLikeEncoder(reader)) return false;
        var g = new OnnxGraphIndex(reader);
        return reader.Tensors.Any(t => t.Shape.Length == 2 && t.DType.IsFloatingPoint() && LinearWeightTracer.IsAnonymous(t.Name)
            && g.Consumers(t.Name).Any(n => n.OpType is "MatMul" or "Gemm"));
    }

    /// <summary>
    /// For writing into <paramref name="graph"/> (a torch export) values kept under Hugging Face names: maps each
    /// initializer to the tensor <paramref name="byName"/> finds for the Hugging Face name it was imported as, transposed
    /// back when the initializer is stored <c>[in, out]</c>; null (keep the graph's value) for initializers that are not
    /// imported tensors or that <paramref name="byName"/> does not know. For other graphs, <paramref name="byName"/> itself.
    /// </summary>
    public static Func<string, (ICheckpointReader Reader, TensorInfo Tensor)?> WriteBackSource(OnnxCheckpointReader graph,
        Func<string, (ICheckpointReader Reader, TensorInfo Tensor)?> byName)
    {
        if (!IsTorchExport(graph)) return byName;
        var map = TorchEncoderImporter.Import(graph).Map.ToDictionary(m => m.Initializer, StringComparer.Ordinal);
        return initializer =>
        {
            if (!map.TryGetValue(initializer, out var m)) return byName(initializer);
            if (byName(m.Name) is not var (reader, t)) return null;
            if (!m.Transposed) return (reader, t);
            var values = new float[t.ElementCount];                       // (out, in)
            reader.ReadFloat32(t, values);
            int rows = t.Shape[0], cols = t.Shape[1];
            var back = new float[values.Length];                           // (in, out)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) back[c * rows + r] = values[r * cols + c];
            var one = new InMemoryCheckpoint(reader.Path).Add(initializer, [cols, rows], back);
            one.TryGetTensor(initializer, out var info);
            return (one, info);
        };
    }
}
