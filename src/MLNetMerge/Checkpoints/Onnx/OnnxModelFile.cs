using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>Reads and writes whole <c>.onnx</c> files (one serialized <c>ModelProto</c>), with typed errors and atomic writes.</summary>
internal static class OnnxModelFile
{
    /// <summary>Protobuf's hard limit on one message: models above it must keep their weights in external data.</summary>
    public const long MaxProtobufBytes = int.MaxValue;

    /// <summary>
    /// Parses <paramref name="path"/> as an ONNX model and checks what every model must have: an IR version, an opset
    /// import and a graph. A truncated file fails either in the parser (a field runs past the end) or here (the fields
    /// after the cut are missing).
    /// </summary>
    /// <exception cref="CheckpointFormatException">Malformed or truncated protobuf, or required fields missing.</exception>
    public static ModelProto Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: ONNX model not found.", path);
        long length = new FileInfo(path).Length;
        if (length > MaxProtobufBytes)
            throw new CheckpointFormatException(path, null, $"is {length} bytes; an ONNX protobuf cannot exceed 2 GiB (large weights belong in external data).");
        ModelProto? model;
        InvalidProtocolBufferException? malformed;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            var input = new CodedInputStream(stream);
            model = TryParse(() => ModelProto.Parser.ParseFrom(input), out malformed);
        }
        if (model is null)
            throw new CheckpointFormatException(path, null, $"is not a valid ONNX protobuf (truncated or malformed): {malformed!.Message}", malformed);
        if (!model.HasIrVersion || model.IrVersion <= 0)
            throw new CheckpointFormatException(path, null, "has no ir_version: not an ONNX model, or the file is truncated.");
        if (model.Graph is null)
            throw new CheckpointFormatException(path, null, "has no graph: not an ONNX model, or the file is truncated.");
        if (model.OpsetImport.Count == 0)
            throw new CheckpointFormatException(path, null, "has no opset_import: not an ONNX model, or the file is truncated.");
        return model;
    }

    /// <summary>
    /// Runs <paramref name="parse"/> (Google.Protobuf's parser over untrusted bytes) and returns its model, or null with the
    /// parser's <see cref="InvalidProtocolBufferException"/> in <paramref name="malformed"/> when the bytes are malformed:
    /// the one place where both readers of ONNX bytes (files, and ML.NET's in-memory models) turn a parse failure into their
    /// typed error. Google.Protobuf 3.30 let one malformed input escape as <see cref="ArgumentOutOfRangeException"/> (a
    /// string length near <see cref="int.MaxValue"/> inside a message that claims more bytes than there are; found by the
    /// fuzz campaign); 3.36.2, pinned since, reports it as a parse error, and the crasher is replayed by the tests.
    /// </summary>
    internal static ModelProto? TryParse(Func<ModelProto> parse, out InvalidProtocolBufferException? malformed)
    {
        try
        {
            malformed = null;
            return parse();
        }
        catch (InvalidProtocolBufferException e)
        {
            malformed = e;
            return null;
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> through a temporary file renamed into place.</summary>
    public static void Save(ModelProto model, string path)
    {
        long size = model.CalculateSize();
        if (size > MaxProtobufBytes)
            throw new InvalidOperationException($"{path}: the model serializes to {size} bytes, above protobuf's 2 GiB limit; write its weights as external data.");
        WriteAtomically(path, stream =>
        {
            var output = new CodedOutputStream(stream, leaveOpen: true);
            model.WriteTo(output);
            output.Flush();
        });
    }

    /// <summary>Writes a file through a temporary sibling, flushed and renamed over <paramref name="path"/>; nothing is left on failure.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
