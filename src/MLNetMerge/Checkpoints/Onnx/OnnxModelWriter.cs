using System.Globalization;
using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>
/// Saves a model whose initializers hold their data in <c>raw_data</c>: inline when small enough, otherwise with the large
/// initializers moved to <c>{file}.data</c> (ONNX external data: <c>location</c>, <c>offset</c>, <c>length</c>,
/// <c>data_location = EXTERNAL</c>). Both files are written through temporary files renamed into place; on failure neither
/// is left behind.
/// </summary>
internal static class OnnxModelWriter
{
    private const int Alignment = 4096;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>; returns the files written (model, and data file if any).</summary>
    public static IReadOnlyList<string> Save(ModelProto model, string path, OnnxWriteOptions options)
    {
        long total = model.Graph.Initializer.Sum(t => (long)t.RawData.Length);
        string dataPath = path + ".data";
        if (total <= options.ExternalDataThresholdBytes)
        {
            OnnxModelFile.Save(model, path);
            if (File.Exists(dataPath)) File.Delete(dataPath);
            return [path];
        }
        string location = Path.GetFileName(dataPath);
        var externalized = new List<(TensorProto Tensor, ByteString Data, long Offset)>();
        long offset = 0;
        foreach (var t in model.Graph.Initializer)
        {
            if (t.RawData.Length < options.ExternalDataMinimumBytes) continue;
            offset = (offset + Alignment - 1) / Alignment * Alignment;
            externalized.Add((t, t.RawData, offset));
            offset += t.RawData.Length;
        }
        OnnxModelFile.WriteAtomically(dataPath, stream =>
        {
            foreach (var (_, data, at) in externalized)
            {
                if (stream.Position < at) stream.Write(new byte[at - stream.Position]);
                data.WriteTo(stream);
            }
        });
        try
        {
            foreach (var (t, data, at) in externalized)
            {
                t.ClearRawData();
                t.ExternalData.Clear();
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
                t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = at.ToString(CultureInfo.InvariantCulture) });
                t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = data.Length.ToString(CultureInfo.InvariantCulture) });
                t.DataLocation = TensorProto.Types.DataLocation.External;
            }
            OnnxModelFile.Save(model, path);
        }
        catch
        {
            File.Delete(dataPath);
            throw;
        }
        finally
        {
            foreach (var (t, data, _) in externalized)
            {
                t.ExternalData.Clear();
                t.ClearDataLocation();
                t.RawData = data;
            }
        }
        return [path, dataPath];
    }
}
