using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Recipes;

/// <summary>
/// The on-disk format of a merge output (<c>manifest.json</c> format <see cref="FormatName"/>): what every command and
/// the library write, and how they are read back. Version 3 records no absolute path: the base checkpoint relative to the
/// output folder with its SHA-256, and the encoder's description files (<c>config.json</c>, tokenizer and pooling files)
/// copied beside the model, so an output describes itself and can be moved.
/// </summary>
internal static class OutputFormat
{
    /// <summary>Format name written to <c>manifest.json</c>.</summary>
    public const string FormatName = "mlnetmerge.merged-model";

    /// <summary>Version this library writes: 2 added the pipeline entries (seed, per-model parameters, config, alignment
    /// stages in <c>stages.safetensors</c>); 3 writes the base path relative to the output and no absolute path.</summary>
    public const int FormatVersion = 3;

    /// <summary>Oldest version this library reads (version 1: a merged model without pipeline entries).</summary>
    public const int OldestReadableVersion = 1;

    /// <summary>File holding every alignment stage's state tensors, named <c>stage{i}/{tensor}</c>.</summary>
    public const string StagesFile = "stages.safetensors";

    /// <summary>Opens <c>manifest.json</c> and checks its format and version.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, or not JSON.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version outside [<see cref="OldestReadableVersion"/>, <see cref="FormatVersion"/>].</exception>
    public static JsonDocument OpenManifest(string directory, out string manifestPath)
    {
        manifestPath = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifestPath)) throw new CheckpointFormatException(directory, null, "no manifest.json: not a saved MLNetMerge model.");
        JsonDocument doc;
        var bytes = File.ReadAllBytes(manifestPath);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new CheckpointFormatException(manifestPath, null, "is not valid UTF-8 text; a merge output's manifest is UTF-8 JSON.");
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new CheckpointFormatException(manifestPath, null, "is not valid JSON: " + e.Message, e); }
        var root = doc.RootElement;
        string format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "";
        int version = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : -1;
        if (format == FormatName && root.TryGetProperty("version", out var given) && given.ValueKind != JsonValueKind.Number)
        {
            string found = given.ValueKind is JsonValueKind.String ? "a string" : given.GetRawText();
            doc.Dispose();
            throw new CheckpointFormatException(manifestPath, null, $"'version' is {found}; expected a whole number (the format version).");
        }
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
        try { ManifestSchema.Check(root, manifestPath); }
        catch { doc.Dispose(); throw; }
        return doc;
    }

    /// <summary>The merged model of an output folder and the alignment stages saved with it (restored through the
    /// registry, fitted on that merged model), in the order the recipe ran them.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, or files that do not hold what it says.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    /// <exception cref="RecipeException">A stage the registry does not know.</exception>
    public static (MergedModel Merged, IReadOnlyList<AlignedModel> Stages) LoadPipeline(string directory)
    {
        using var doc = OpenManifest(directory, out string manifestPath);
        var merged = WithArchitecture(ReadMerged(directory, doc.RootElement, manifestPath), directory, doc.RootElement, manifestPath);
        return (merged, ReadStages(directory, doc.RootElement, manifestPath, merged, null).Models);
    }

    /// <summary>The base checkpoint (a file, or a checkpoint folder such as an import's) an output's manifest records, when it
    /// still exists with the recorded SHA-256; else null.</summary>
    public static string? RecordedBase(string directory)
    {
        string manifest = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifest)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
        var root = doc.RootElement;
        // The base is recorded relative to the output folder (older outputs: absolute).
        if (!root.TryGetProperty("base", out var b) || b.GetString() is not { } recorded) return null;
        string path = Path.GetFullPath(Path.Combine(directory, recorded));
        if (!File.Exists(path) && !Directory.Exists(path)) return null;
        if (root.TryGetProperty("base_sha256", out var h) && h.GetString() is { } sha && FileHashes.Sha256(path) != sha) return null;
        return path;
    }

    /// <summary>The merged model of an output folder, knowing its architecture when the folder holds the encoder's files.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, or files that do not hold what it says.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    public static MergedModel LoadMerged(string directory)
    {
        using var doc = OpenManifest(directory, out string manifestPath);
        return WithArchitecture(ReadMerged(directory, doc.RootElement, manifestPath), directory, doc.RootElement, manifestPath);
    }

    /// <summary>The merged model of a saved directory whose manifest is <paramref name="root"/>.</summary>
    public static MergedModel ReadMerged(string directory, JsonElement root, string manifestPath)
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

    /// <summary>The merged model with the encoder its folder describes: the <c>config.json</c> the manifest names (an output
    /// carries its family's description files), else for older outputs the one beside the recorded base, if still there.</summary>
    /// <exception cref="CheckpointFormatException">The manifest names a description file that is missing.</exception>
    public static MergedModel WithArchitecture(MergedModel merged, string directory, JsonElement root, string manifestPath)
    {
        string? config = null;
        if (root.TryGetProperty("config", out var c) && c.GetString() is { } cfg)
        {
            config = Path.GetFullPath(Path.Combine(directory, cfg));
            if (!File.Exists(config)) throw new CheckpointFormatException(manifestPath, null, $"names the architecture file '{cfg}', which is missing.");
        }
        else if (root.TryGetProperty("base", out var b) && b.GetString() is { } basePath)
        {
            string full = Path.GetFullPath(Path.Combine(directory, basePath));
            if (File.Exists(full)) config = ModelArchitecture.ConfigBeside(full);
        }
        return config is null ? merged : merged.WithEncoder(ModelArchitecture.Load(directory, merged.Tensors.ContainsKey, config));
    }

    /// <summary>The name of a stage's state tensor in <see cref="StagesFile"/>.</summary>
    public static string StateName(int stage, string tensor) => $"stage{stage}/{tensor}";

    /// <summary>The seed the manifest records (0 for version 1).</summary>
    public static ulong Seed(JsonElement root) => root.TryGetProperty("seed", out var s) && s.TryGetUInt64(out var v) ? v : 0;

    /// <summary>Restores the alignment stages a manifest lists: each through its registry entry's
    /// <see cref="AlignmentMethod.Restore"/> from its parameters and saved state, with the estimator that fits it again.</summary>
    /// <exception cref="CheckpointFormatException">A stage's state tensor named in the manifest is missing.</exception>
    /// <exception cref="RecipeException">A stage the registry does not know.</exception>
    public static (List<AlignedModel> Models, List<IAlignmentEstimator> Estimators) ReadStages(string directory, JsonElement root, string manifestPath,
        MergedModel merged, IReadOnlyList<AlignmentMethod>? alignmentMethods)
    {
        var aligned = new List<AlignedModel>();
        var stages = new List<IAlignmentEstimator>();
        if (!root.TryGetProperty("stages", out var list) || list.GetArrayLength() == 0) return (aligned, stages);
        ulong seed = Seed(root);
        string statePath = Path.Combine(directory, StagesFile);
        using var reader = File.Exists(statePath) ? SafetensorsReader.Open(statePath) : null;
        int i = 0;
        foreach (var stage in list.EnumerateArray())
        {
            string name = stage.GetProperty("method").GetString()!;
            var method = alignmentMethods is null ? AlignmentMethods.Find(name)
                : alignmentMethods.FirstOrDefault(m => m.Name == name)
                  ?? throw new RecipeException(manifestPath, $"unknown alignment method '{name}' (stage {i}); expected one of: {string.Join(", ", alignmentMethods.Select(m => m.Name))}.");
            var stageParameters = RecipeParser.ParseParameters(stage.GetProperty("parameters_yaml").GetString() ?? "", manifestPath);
            var state = new List<AlignedTensor>();
            foreach (var t in stage.GetProperty("state").EnumerateArray())
            {
                string tensor = t.GetString()!;
                if (reader is null || !reader.TryGetTensor(StateName(i, tensor), out var info))
                    throw new CheckpointFormatException(statePath, StateName(i, tensor), $"is missing; stage {i} ({name}) saved it.");
                state.Add(new AlignedTensor(tensor, info.Shape.Select(d => checked((int)d)).ToArray(), ReadFloats(reader, info)));
            }
            aligned.Add(method.Restore(merged, stageParameters, state));
            stages.Add(method.Create(stageParameters, seed));
            i++;
        }
        return (aligned, stages);
    }
}
