using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Recipes;

/// <summary>Writes the parts of a merge output into an <see cref="AtomicDirectory"/>'s temporary folder (see
/// <see cref="OutputFormat"/>).</summary>
internal static class OutputWriter
{
    /// <summary>The tensor files of a merged model (everything but the manifest).</summary>
    public static void WriteMerged(AtomicDirectory dir, MergedModel model)
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

    /// <summary>Copies the files that describe the merged model's encoder (<c>config.json</c>, tokenizer and pooling files)
    /// into the output, so the output describes itself; returns the relative names copied.</summary>
    public static IReadOnlyList<string> CopyModelFiles(ModelArchitecture? architecture, AtomicDirectory dir)
    {
        if (architecture is not { Directory: { } source }) return [];
        foreach (var file in architecture.ModelFiles)
        {
            string target = dir.PathOf(file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(source, file), target, overwrite: true);
        }
        return architecture.ModelFiles;
    }

    /// <summary>Copies <paramref name="source"/> into the output as <paramref name="name"/>; returns the name.</summary>
    public static IReadOnlyList<string> CopyFile(string source, AtomicDirectory dir, string name)
    {
        ArgumentNullException.ThrowIfNull(dir);
        File.Copy(source, dir.PathOf(name), overwrite: true);
        return [name];
    }

    /// <summary>Writes every stage's <see cref="AlignedModel.State"/> into <see cref="OutputFormat.StagesFile"/> (nothing when
    /// no stage has state).</summary>
    /// <exception cref="ArgumentException">A state tensor's shape does not match its values.</exception>
    public static void WriteStages(IReadOnlyList<AlignedModel> stages, AtomicDirectory dir)
    {
        if (!stages.Any(a => a.State.Count > 0)) return;
        var entries = new List<TensorEntry>();
        for (int i = 0; i < stages.Count; i++)
            foreach (var t in stages[i].State)
            {
                long count = t.Shape.Aggregate(1L, (a, d) => a * d);
                if (count != t.Values.Length) throw new ArgumentException($"stage {i} ({stages[i].Method}): state tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] but {t.Values.Length} values.", nameof(stages));
                entries.Add(new TensorEntry(OutputFormat.StateName(i, t.Name), DType.F32, (int[])t.Shape.Clone()));
            }
        using var w = new SafetensorsWriter(dir.PathOf(OutputFormat.StagesFile), entries, new Dictionary<string, string> { ["format"] = "pt" });
        for (int i = 0; i < stages.Count; i++)
            foreach (var t in stages[i].State) w.WriteFloat32(OutputFormat.StateName(i, t.Name), t.Values);
        w.Complete();
    }

    /// <summary>The manifest's entries for a pipeline: the seed, the description file and each stage's method, parameters,
    /// tasks and state tensor names.</summary>
    public static Action<Utf8JsonWriter> PipelineEntries(ulong seed, bool hasConfig, IReadOnlyList<AlignedModel> stages) => w =>
    {
        w.WriteNumber("seed", seed);
        if (hasConfig) w.WriteString("config", "config.json");
        w.WriteStartArray("stages");
        foreach (var a in stages)
        {
            w.WriteStartObject();
            w.WriteString("method", a.Method);
            w.WriteString("parameters_yaml", RecipeWriter.Parameters(a.Parameters));
            w.WriteStartArray("tasks");
            foreach (var t in a.TaskNames) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartArray("state");
            foreach (var t in a.State) w.WriteStringValue(t.Name);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    };

    public static Dictionary<string, string> Metadata(MergedModel model) => new(StringComparer.Ordinal)
    {
        ["format"] = "pt",
        ["mlnetmerge.method"] = model.Summary.Method.Name,
    };

    /// <summary>Writes <c>manifest.json</c> for a merge result (every output: recipe runs and the library's saves).</summary>
    public static void WriteManifest(string path, MergeSummary summary, IReadOnlyDictionary<string, string>? extra = null, IReadOnlyList<string>? files = null,
        Action<Utf8JsonWriter>? more = null)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", OutputFormat.FormatName);
        w.WriteNumber("version", OutputFormat.FormatVersion);
        w.WriteString(Checkpoints.OutputContents.ManifestKey, Checkpoints.OutputContents.RecordName);
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
