using System.Text.Json;
using MLNetMerge.Checkpoints;

namespace MLNetMerge.Export;

/// <summary>
/// The <c>manifest.json</c> of an ONNX export folder: <c>{ "format": "mlnetmerge.onnx-export", "version": 1, "method",
/// "stage" (the alignment stage the graphs run, when there is one), "tasks", "files" }</c>. It names no path outside the folder; its format is what lets an overwrite recognise the
/// folder as one MLNetMerge wrote (<see cref="OutputGuard"/>).
/// </summary>
internal static class ExportManifest
{
    /// <summary>The manifest's file name.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The format version written.</summary>
    public const int Version = 1;

    /// <summary>Writes the manifest.</summary>
    public static void Write(string path, string method, string? stage, IReadOnlyList<string> tasks, IReadOnlyList<string> files)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", OutputGuard.OnnxExportFormat);
        w.WriteNumber("version", Version);
        w.WriteString(OutputContents.ManifestKey, OutputContents.RecordName);
        w.WriteString("method", method);
        if (stage is not null) w.WriteString("stage", stage);
        w.WriteStartArray("tasks");
        foreach (var t in tasks) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("files");
        foreach (var f in files) w.WriteStringValue(f.Replace('\\', '/'));
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
