using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge;

/// <summary>Model operations (ML.NET's ModelOperationsCatalog): load families, save and load merged models.</summary>
public sealed partial class ModelCatalog
{
    /// <summary>On-disk format name written to <c>manifest.json</c>.</summary>
    public const string FormatName = "mlnetmerge.merged-model";

    /// <summary>On-disk format version this library writes: 2 adds the pipeline entries (<c>seed</c>, per-model
    /// parameters, <c>config.json</c>, alignment <c>stages</c> with their state in <c>stages.safetensors</c>).</summary>
    public const int FormatVersion = 2;

    /// <summary>Oldest on-disk format version this library reads (version 1: a merged model without pipeline entries).</summary>
    public const int OldestReadableVersion = 1;

    internal ModelCatalog() { }

    /// <summary>Opens a family: a base checkpoint and named fine-tuned checkpoints (heads matched by <c>classifier.*</c>).</summary>
    public ModelFamily LoadFamily(string basePath, params (string Name, string Path)[] tasks) => ModelFamily.Load(basePath, tasks);

    /// <summary>Opens a family with options (head pattern, memory mapping).</summary>
    public ModelFamily LoadFamily(string basePath, IEnumerable<(string Name, string Path)> tasks, ModelFamilyOptions options) =>
        ModelFamily.Load(basePath, tasks, options);

    /// <summary>
    /// Saves a merged model into <paramref name="directory"/> atomically: <c>model.safetensors</c>, <c>heads.safetensors</c>,
    /// <c>modulators.safetensors</c>, <c>tasks/{task}.safetensors</c> for per-task methods, and <c>manifest.json</c>.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    public void Save(MergedModel model, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        WriteMerged(dir, model);
        WriteManifest(dir.PathOf("manifest.json"), model.Summary);
        dir.Commit();
    }

    /// <summary>The tensor files of a merged model (everything but the manifest).</summary>
    private static void WriteMerged(AtomicDirectory dir, MergedModel model)
    {
        using (var w = new SafetensorsWriter(dir.PathOf("model.safetensors"), model.Layout, Metadata(model)))
        {
            foreach (var e in model.Layout)
            {
                if (model.RawTensors.TryGetValue(e.Name, out var raw)) w.WriteRaw(e.Name, raw);
                else w.WriteFloat32(e.Name, model.Tensors[e.Name]);
            }
            w.Complete();
        }
        if (model.HeadEntries.Count > 0)
        {
            var entries = model.HeadEntries.OrderBy(k => k.Key, StringComparer.Ordinal).Select(kv => kv.Value with { Name = kv.Key }).ToList();
            using var w = new SafetensorsWriter(dir.PathOf("heads.safetensors"), entries, Metadata(model));
            foreach (var (task, heads) in model.Heads)
                foreach (var (name, bytes) in heads) w.WriteRaw($"{task}.{name}", bytes);
            w.Complete();
        }
        if (model.Modulators.Count + model.ModulatorBytes.Count > 0)
        {
            var entries = model.Modulators.Select(kv => new TensorEntry(kv.Key, DType.F32, [kv.Value.Length]))
                .Concat(model.ModulatorBytes.Select(kv => new TensorEntry(kv.Key, DType.U8, [kv.Value.Length])))
                .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            using var w = new SafetensorsWriter(dir.PathOf("modulators.safetensors"), entries, Metadata(model));
            foreach (var (k, v) in model.Modulators) w.WriteFloat32(k, v);
            foreach (var (k, v) in model.ModulatorBytes) w.WriteRaw(k, v);
            w.Complete();
        }
        foreach (var (task, tensors) in model.TaskTensors)
        {
            var entries = model.Layout.Where(e => tensors.ContainsKey(e.Name)).ToList();
            using var w = new SafetensorsWriter(dir.PathOf(Path.Combine("tasks", task + ".safetensors")), entries, Metadata(model));
            foreach (var e in entries) w.WriteFloat32(e.Name, tensors[e.Name]);
            w.Complete();
        }
    }

    /// <summary>Loads a model saved by <see cref="Save(MergedModel, string, bool)"/>.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, a foreign format, or a version this library does not read.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    public MergedModel Load(string directory)
    {
        using var doc = OpenManifest(directory, out string manifestPath);
        return ReadMerged(directory, doc.RootElement, manifestPath);
    }

    /// <summary>Opens <c>manifest.json</c> and checks its format and version.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, or not JSON.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version outside [<see cref="OldestReadableVersion"/>, <see cref="FormatVersion"/>].</exception>
    internal static JsonDocument OpenManifest(string directory, out string manifestPath)
    {
        manifestPath = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifestPath)) throw new CheckpointFormatException(directory, null, "no manifest.json: not a saved MLNetMerge model.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath)); }
        catch (JsonException e) { throw new CheckpointFormatException(manifestPath, null, "is not valid JSON: " + e.Message, e); }
        var root = doc.RootElement;
        string format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "";
        int version = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("version", out var v) && v.TryGetInt32(out int n) ? n : -1;
        if (format != FormatName)
        {
            doc.Dispose();
            throw new ModelFormatVersionException(manifestPath, format, version, $"format '{format}' is not '{FormatName}': not a model saved by MLNetMerge.");
        }
        if (version < OldestReadableVersion || version > FormatVersion)
        {
            doc.Dispose();
            throw new ModelFormatVersionException(manifestPath, format, version,
                $"format version {version} is not supported; this library reads versions {OldestReadableVersion} to {FormatVersion}{(version > FormatVersion ? " (saved by a newer MLNetMerge: update the library)" : "")}.");
        }
        return doc;
    }

    /// <summary>The merged model of a saved directory whose manifest is <paramref name="root"/>.</summary>
    private static MergedModel ReadMerged(string directory, JsonElement root, string manifestPath)
    {
        var (method, _) = MergeMethods.Find(root.GetProperty("method").GetString()!, manifestPath);
        var tasks = root.GetProperty("tasks").EnumerateArray().Select(x => x.GetString()!).ToList();
        var global = RecipeParser.ParseParameters(root.GetProperty("parameters_yaml").GetString()!, manifestPath);
        var perModel = ModelParameters(root, manifestPath);
        var parameters = new MergeParameters(method, global, tasks.Select(t => perModel.TryGetValue(t, out var p) ? p : null).ToList(), manifestPath);
        var notes = root.GetProperty("notes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

        var layout = new List<TensorEntry>();
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var raw = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var r = CheckpointReader.Open(directory))
            foreach (var t in r.Tensors.OrderBy(t => t.Offset))
            {
                layout.Add(new TensorEntry(t.Name, t.DType, t.Shape));
                if (t.DType.IsFloatingPoint()) tensors[t.Name] = ReadFloats(r, t);
                else { var b = new byte[t.ByteLength]; r.ReadRaw(t, b); raw[t.Name] = b; }
            }
        var heads = new Dictionary<string, Dictionary<string, byte[]>>(StringComparer.Ordinal);
        var headEntries = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        string headsPath = Path.Combine(directory, "heads.safetensors");
        if (File.Exists(headsPath))
            using (var r = SafetensorsReader.Open(headsPath))
                foreach (var t in r.Tensors)
                {
                    string task = tasks.FirstOrDefault(x => t.Name.StartsWith(x + ".", StringComparison.Ordinal))
                        ?? throw new CheckpointFormatException(headsPath, t.Name, "does not start with a task name of the manifest.");
                    var b = new byte[t.ByteLength];
                    r.ReadRaw(t, b);
                    (heads.TryGetValue(task, out var d) ? d : heads[task] = new(StringComparer.Ordinal))[t.Name[(task.Length + 1)..]] = b;
                    headEntries[t.Name] = new TensorEntry(t.Name[(task.Length + 1)..], t.DType, t.Shape);
                }
        var mods = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var modBytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        string modPath = Path.Combine(directory, "modulators.safetensors");
        if (File.Exists(modPath))
            using (var r = SafetensorsReader.Open(modPath))
                foreach (var t in r.Tensors)
                {
                    if (t.DType == DType.U8) { var b = new byte[t.ByteLength]; r.ReadRaw(t, b); modBytes[t.Name] = b; }
                    else mods[t.Name] = ReadFloats(r, t);
                }
        var taskTensors = new Dictionary<string, IReadOnlyDictionary<string, float[]>>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            string p = Path.Combine(directory, "tasks", task + ".safetensors");
            if (!File.Exists(p)) continue;
            using var r = SafetensorsReader.Open(p);
            taskTensors[task] = r.Tensors.ToDictionary(t => t.Name, t => ReadFloats(r, t), StringComparer.Ordinal);
        }
        var summary = new MergeSummary(method, parameters, tasks, notes, root.GetProperty("merged_parameters").GetInt64());
        return new MergedModel(summary, layout, tensors, raw,
            heads.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, byte[]>)kv.Value, StringComparer.Ordinal),
            headEntries, mods, modBytes, taskTensors);
    }

    /// <summary>Per-model parameters of a version-2 manifest (task → values; empty for version 1).</summary>
    private static Dictionary<string, IReadOnlyDictionary<string, ParameterValue>> ModelParameters(JsonElement root, string manifestPath)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(StringComparer.Ordinal);
        if (root.TryGetProperty("model_parameters_yaml", out var m))
            foreach (var p in m.EnumerateObject()) result[p.Name] = RecipeParser.ParseParameters(p.Value.GetString() ?? "", manifestPath);
        return result;
    }

    private static float[] ReadFloats(ICheckpointReader r, TensorInfo t)
    {
        var values = new float[t.ElementCount];
        r.ReadFloat32(t, values);
        return values;
    }

    private static Dictionary<string, string> Metadata(MergedModel model) => new(StringComparer.Ordinal)
    {
        ["format"] = "pt",
        ["mlnetmerge.method"] = model.Summary.Method.Name,
    };

    /// <summary>Writes <c>manifest.json</c> for a merge result (shared by <see cref="Save(MergedModel, string, bool)"/> and recipe runs).</summary>
    internal static void WriteManifest(string path, MergeSummary summary, IReadOnlyDictionary<string, string>? extra = null, IReadOnlyList<string>? files = null,
        Action<Utf8JsonWriter>? more = null)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", FormatName);
        w.WriteNumber("version", FormatVersion);
        w.WriteString("method", summary.Method.Name);
        w.WriteBoolean("per_task", summary.Method.IsPerTask);
        w.WriteStartArray("tasks");
        foreach (var t in summary.TaskNames) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteString("parameters_yaml", RecipeWriter.Parameters(summary.Parameters.Effective()));
        w.WriteStartObject("model_parameters_yaml");
        for (int i = 0; i < summary.TaskNames.Count && i < summary.Parameters.ModelCount; i++)
            if (summary.Parameters.PerModel(i).Count > 0) w.WriteString(summary.TaskNames[i], RecipeWriter.Parameters(summary.Parameters.PerModel(i)));
        w.WriteEndObject();
        w.WriteNumber("merged_parameters", summary.MergedParameterCount);
        w.WriteStartObject("notes");
        foreach (var (k, v) in summary.Notes.OrderBy(k => k.Key, StringComparer.Ordinal)) w.WriteString(k, v);
        w.WriteEndObject();
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) w.WriteString(k, v);
        more?.Invoke(w);
        if (files is not null)
        {
            w.WriteStartArray("files");
            foreach (var f in files) w.WriteStringValue(f.Replace('\\', '/'));
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
