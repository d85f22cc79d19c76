using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using MLNetMerge.Alignment;

namespace MLNetMerge;

/// <summary>Saving and loading fitted pipelines, and loading recipes as pipelines.</summary>
public sealed partial class ModelCatalog
{
    /// <summary>File holding every alignment stage's state tensors, named <c>stage{i}/{tensor}</c>.</summary>
    public const string StagesFile = "stages.safetensors";

    /// <summary>
    /// Saves a fitted pipeline into <paramref name="directory"/> atomically, in the merged-model format (version
    /// <see cref="FormatVersion"/>) plus <c>config.json</c> (the architecture, when known), <see cref="StagesFile"/> (each
    /// stage's <see cref="AlignedModel.State"/>) and, in <c>manifest.json</c>, the seed and each stage's method and parameters.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="ArgumentException">A stage's state tensor has a shape that does not match its values.</exception>
    public void Save(FittedPipeline model, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        WriteMerged(dir, model.Merged);
        var modelFiles = CopyModelFiles(model.Merged, dir);
        var names = model.Aligned.Select((a, i) => a.State.Select(t => StateName(i, t.Name)).ToList()).ToList();
        if (model.Aligned.Any(a => a.State.Count > 0))
        {
            var entries = new List<TensorEntry>();
            for (int i = 0; i < model.Aligned.Count; i++)
                foreach (var t in model.Aligned[i].State)
                {
                    long count = t.Shape.Aggregate(1L, (a, d) => a * d);
                    if (count != t.Values.Length) throw new ArgumentException($"stage {i} ({model.Aligned[i].Method}): state tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] but {t.Values.Length} values.", nameof(model));
                    entries.Add(new TensorEntry(StateName(i, t.Name), DType.F32, (int[])t.Shape.Clone()));
                }
            using var w = new SafetensorsWriter(dir.PathOf(StagesFile), entries, new Dictionary<string, string> { ["format"] = "pt" });
            for (int i = 0; i < model.Aligned.Count; i++)
                foreach (var t in model.Aligned[i].State) w.WriteFloat32(StateName(i, t.Name), t.Values);
            w.Complete();
        }
        ulong seed = (model.Pipeline?.Merge as MergeEstimator)?.Seed ?? 0;
        WriteManifest(dir.PathOf("manifest.json"), model.Merged.Summary, more: w =>
        {
            w.WriteNumber("seed", seed);
            if (modelFiles.Count > 0) w.WriteString("config", "config.json");
            w.WriteStartArray("stages");
            for (int i = 0; i < model.Aligned.Count; i++)
            {
                var a = model.Aligned[i];
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
        });
        dir.Commit();
    }

    /// <summary>
    /// Loads a pipeline saved by <see cref="Save(FittedPipeline, string, bool)"/> (or a merged model saved by
    /// <see cref="Save(MergedModel, string, bool)"/>, as a pipeline without stages). Each stage is restored through its
    /// registry entry's <see cref="AlignmentMethod.Restore"/> from its parameters and saved state, and the estimator chain
    /// is rebuilt (<see cref="FittedPipeline.Pipeline"/>).
    /// </summary>
    /// <param name="directory">The saved directory.</param>
    /// <param name="alignmentMethods">Where stage names are looked up (default <see cref="AlignmentMethods.All"/>; pass your
    /// own list to restore stages of your own).</param>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    /// <exception cref="CheckpointFormatException">A stage's state tensor named in the manifest is missing.</exception>
    /// <exception cref="RecipeException">A stage the registry does not know.</exception>
    public FittedPipeline LoadPipeline(string directory, IReadOnlyList<AlignmentMethod>? alignmentMethods = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        using var doc = OpenManifest(directory, out string manifestPath);
        var root = doc.RootElement;
        var merged = ReadMerged(directory, root, manifestPath);
        ulong seed = root.TryGetProperty("seed", out var s) && s.TryGetUInt64(out var sv) ? sv : 0;
        string? config = null;
        if (root.TryGetProperty("config", out var c) && c.GetString() is { } cfg)
        {
            config = Path.GetFullPath(Path.Combine(directory, cfg));
            if (!File.Exists(config)) throw new CheckpointFormatException(manifestPath, null, $"names the architecture file '{cfg}', which is missing.");
        }
        else if (root.TryGetProperty("base", out var b) && b.GetString() is { } basePath && File.Exists(basePath))
            config = Encoders.ModelArchitecture.ConfigBeside(basePath);   // an older merge output: the family's config.json, if still there
        if (config is not null)
            merged = merged.WithEncoder(Encoders.ModelArchitecture.Load(directory, name => merged.Tensors.ContainsKey(name), config));
        var parameters = merged.Summary.Parameters;
        var perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(StringComparer.Ordinal);
        for (int i = 0; i < merged.TaskNames.Count; i++)
            if (parameters.PerModel(i).Count > 0) perModel[merged.TaskNames[i]] = parameters.PerModel(i);
        var estimator = new MergeEstimator(merged.Summary.Method, parameters.Effective(), perModel, seed);

        var aligned = new List<AlignedModel>();
        var stages = new List<IAlignmentEstimator>();
        if (root.TryGetProperty("stages", out var list) && list.GetArrayLength() > 0)
        {
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
        }
        return new FittedPipeline(merged, aligned) { Pipeline = MergePipeline.Create(estimator, stages) };
    }

    /// <summary>Reads a recipe file as a pipeline (merge, then its <c>align.stages</c>); open its checkpoints with
    /// <see cref="MergeRecipe.OpenFamily"/>.</summary>
    /// <exception cref="RecipeException">Invalid recipe, or an unknown stage.</exception>
    public MergePipeline LoadRecipe(string path, IReadOnlyList<AlignmentMethod>? alignmentMethods = null) =>
        MergeRecipe.Load(path).ToPipeline(alignmentMethods);

    /// <summary>Copies the files that describe the merged model's encoder (<c>config.json</c>, tokenizer and pooling files)
    /// into the output, so the output describes itself; returns the relative names copied.</summary>
    internal static IReadOnlyList<string> CopyModelFiles(MergedModel merged, AtomicDirectory dir)
    {
        if (merged.Architecture is not { Directory: { } source } architecture) return [];
        foreach (var file in architecture.ModelFiles)
        {
            string target = dir.PathOf(file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(source, file), target, overwrite: true);
        }
        return architecture.ModelFiles;
    }

    private static string StateName(int stage, string tensor) => $"stage{stage}/{tensor}";
}
