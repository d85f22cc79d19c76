using Microsoft.Win32.SafeHandles;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>
/// Reads an ONNX model's initializers as checkpoint tensors, so a family of ONNX models exported from one base merges
/// like safetensors checkpoints. Data stored in the model (<c>raw_data</c> or typed fields) is served from the parsed
/// model; external data is read lazily from its file with <see cref="RandomAccess"/> (its <see cref="TensorInfo.File"/>
/// and <see cref="TensorInfo.Offset"/> name the external file and byte offset; for data inside the model,
/// <see cref="TensorInfo.File"/> is the model and <see cref="TensorInfo.Offset"/> is -1).
/// Opening checks every initializer: a known element type, data of the right size, external files present and long enough.
/// The model protobuf is parsed whole (protobuf caps it at 2 GiB; larger models keep their weights in external data).
/// Metadata holds the model's <c>metadata_props</c> plus <c>onnx.producer_name</c>, <c>onnx.producer_version</c>,
/// <c>onnx.ir_version</c> and <c>onnx.opset</c>.
/// </summary>
internal sealed class OnnxCheckpointReader : ICheckpointReader
{
    private readonly Dictionary<string, (TensorInfo Info, OnnxTensorLocation Location)> _byName;
    private readonly Dictionary<string, SafeFileHandle> _externalFiles;

    private OnnxCheckpointReader(string path, ModelProto model, List<TensorInfo> tensors,
        Dictionary<string, (TensorInfo, OnnxTensorLocation)> byName, Dictionary<string, SafeFileHandle> externalFiles, Dictionary<string, string> metadata)
    {
        Path = path;
        Model = model;
        Tensors = tensors;
        _byName = byName;
        _externalFiles = externalFiles;
        Metadata = metadata;
    }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The parsed model (graph, opsets, initializers).</summary>
    internal ModelProto Model { get; }

    /// <summary>Opens <paramref name="path"/>, parses it and checks every initializer.</summary>
    /// <exception cref="CheckpointFormatException">Truncated or malformed protobuf, an initializer with no name, a duplicate name, an unsupported element type, data of the wrong size, or missing or short external data (the message names the file and the tensor).</exception>
    public static OnnxCheckpointReader Open(string path)
    {
        var model = OnnxModelFile.Load(path);
        var tensors = new List<TensorInfo>(model.Graph.Initializer.Count);
        var byName = new Dictionary<string, (TensorInfo, OnnxTensorLocation)>(StringComparer.Ordinal);
        var files = new Dictionary<string, SafeFileHandle>(StringComparer.Ordinal);
        try
        {
            foreach (var t in model.Graph.Initializer)
            {
                if (string.IsNullOrEmpty(t.Name)) throw new CheckpointFormatException(path, null, "has an initializer without a name.");
                if (!OnnxDataTypes.TryToDType(t.DataType, out var dtype))
                    throw new CheckpointFormatException(path, t.Name, $"has element type {OnnxDataTypes.Name(t.DataType)}, which a checkpoint cannot hold.");
                var shape = new int[t.Dims.Count];
                long count = 1;
                for (int i = 0; i < shape.Length; i++)
                {
                    if (t.Dims[i] < 0 || t.Dims[i] > int.MaxValue)
                        throw new CheckpointFormatException(path, t.Name, $"has dimension {t.Dims[i]}.");
                    shape[i] = (int)t.Dims[i];
                    count *= shape[i];
                }
                var location = OnnxTensorData.Locate(t, dtype, count, path);
                if (byName.ContainsKey(t.Name)) throw new CheckpointFormatException(path, t.Name, "is defined twice among the initializers.");
                var info = new TensorInfo(t.Name, dtype, shape, location.ExternalFile ?? path, location.ExternalFile is null ? -1 : location.ExternalOffset, location.Length);
                if (location.ExternalFile is not null && !files.ContainsKey(location.ExternalFile))
                    files[location.ExternalFile] = File.OpenHandle(location.ExternalFile, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
                tensors.Add(info);
                byName[t.Name] = (info, location);
            }
        }
        catch
        {
            foreach (var h in files.Values) h.Dispose();
            throw;
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in model.MetadataProps) metadata[e.Key] = e.Value;
        metadata["onnx.producer_name"] = model.ProducerName;
        metadata["onnx.producer_version"] = model.ProducerVersion;
        metadata["onnx.ir_version"] = model.IrVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        metadata["onnx.opset"] = string.Join(",", model.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)}:{o.Version}"));
        return new OnnxCheckpointReader(path, model, tensors, byName, files, metadata);
    }

    /// <inheritdoc />
    public bool TryGetTensor(string name, out TensorInfo info)
    {
        if (_byName.TryGetValue(name, out var e)) { info = e.Info; return true; }
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, Span<float> destination)
    {
        if (!tensor.DType.IsFloatingPoint())
            throw new CheckpointFormatException(Path, tensor.Name, $"is {tensor.DType}; a floating-point tensor was expected.");
        var (_, location) = Find(tensor);
        if (location.ExternalFile is null)
        {
            DTypeConversion.ToFloat32(location.Bytes.Span, tensor.DType, destination[..(int)tensor.ElementCount]);
            return;
        }
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)location.Length);
        try
        {
            ReadExternal(tensor, location, buffer.AsSpan(0, (int)location.Length));
            DTypeConversion.ToFloat32(buffer.AsSpan(0, (int)location.Length), tensor.DType, destination[..(int)tensor.ElementCount]);
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <inheritdoc />
    public void ReadRaw(TensorInfo tensor, Span<byte> destination)
    {
        var (_, location) = Find(tensor);
        if (location.ExternalFile is null) location.Bytes.Span.CopyTo(destination);
        else ReadExternal(tensor, location, destination[..(int)location.Length]);
    }

    private (TensorInfo, OnnxTensorLocation) Find(TensorInfo tensor) =>
        _byName.TryGetValue(tensor.Name, out var e) ? e : throw new CheckpointFormatException(Path, tensor.Name, "is not an initializer of this model.");

    private void ReadExternal(TensorInfo tensor, OnnxTensorLocation location, Span<byte> destination)
    {
        var handle = _externalFiles[location.ExternalFile!];
        long done = 0;
        while (done < destination.Length)
        {
            int n = RandomAccess.Read(handle, destination[(int)done..], location.ExternalOffset + done);
            if (n <= 0)
                throw new CheckpointFormatException(Path, tensor.Name, $"external data file {location.ExternalFile} ended early (it was shortened after the model was opened).");
            done += n;
        }
    }

    /// <summary>Closes the external data files.</summary>
    public void Dispose()
    {
        foreach (var h in _externalFiles.Values) h.Dispose();
    }
}
