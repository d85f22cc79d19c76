using System.Text;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Encoders;

namespace MLNetMerge.Recipes;

/// <summary>Settings of <see cref="RecipeRunner.Merge"/>.</summary>
public sealed class RecipeRunOptions
{
    /// <summary>Replace an existing output directory. Default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Tasks to materialize in addition to the recipe's <c>materialize</c> list.</summary>
    public IReadOnlyList<string> Materialize { get; init; } = [];

    /// <summary>Override of the recipe's output directory.</summary>
    public string? Output { get; init; }

    /// <summary>Worker threads. Default: processor count.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Read inputs through memory maps. Default false.</summary>
    public bool MemoryMap { get; init; }
}

/// <summary>Runs a recipe's merge into its output directory, atomically, with the resolved recipe, a model card and a manifest.</summary>
public static class RecipeRunner
{
    /// <summary>Merges; returns the summary. Nothing is left at the output path on failure.</summary>
    public static MergeSummary Merge(MergeRecipe recipe, RecipeRunOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new RecipeRunOptions();
        string output = options.Output ?? recipe.Output ?? throw new RecipeException(recipe.Source, "no output directory: set 'output' or pass --output.");
        var parameters = recipe.ResolveParameters();
        var materialize = recipe.Materialize.Concat(options.Materialize).Distinct(StringComparer.Ordinal).ToList();
        using var out_ = AtomicDirectory.Begin(output, options.Overwrite);
        using var family = ModelFamily.Load(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)),
            new ModelFamilyOptions { Heads = recipe.Heads, Reader = new SafetensorsReaderOptions { MemoryMap = options.MemoryMap } });
        var resolved = new MergeRecipe
        {
            Method = recipe.Method, ImpliedParameters = recipe.ImpliedParameters, Base = recipe.Base, Models = recipe.Models, Parameters = recipe.Parameters,
            Heads = recipe.Heads, DType = recipe.DType, Seed = recipe.Seed, Output = output, MaxShardBytes = recipe.MaxShardBytes,
            AllowNonFinite = recipe.AllowNonFinite, Materialize = materialize, Sections = recipe.Sections, Source = recipe.Source,
        };
        string recipeYaml = resolved.ToYaml(parameters);
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in family.Base.Metadata) metadata[k] = v;
        metadata["format"] = "pt";
        metadata["mlnetmerge.method"] = parameters.Method.Name;
        metadata["mlnetmerge.recipe"] = recipeYaml;
        MergeSummary summary;
        using (var sink = new DirectoryMergeSink(out_.TempPath, metadata, recipe.MaxShardBytes ?? long.MaxValue))
        {
            summary = MergeExecutor.Run(family, parameters.Method, parameters, sink, new MergeExecutionOptions
            {
                AllowNonFinite = recipe.AllowNonFinite, OutputDType = recipe.DType, Materialize = materialize, Seed = recipe.Seed, MaxThreads = options.MaxThreads,
            }, progress, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            File.WriteAllText(out_.PathOf("recipe.yaml"), recipeYaml);
            var hashes = new[] { ("base", recipe.Base) }.Concat(recipe.Models.Select(m => (m.Name, m.Path)))
                .Select(x => (x.Item1, x.Item2, Sha256: FileHashes.Sha256(x.Item2))).ToList();
            File.WriteAllText(out_.PathOf("README.md"), ModelCard.Write(summary, hashes, sink.Files));
            ModelCatalog.WriteManifest(out_.PathOf("manifest.json"), summary,
                new Dictionary<string, string> { ["base"] = recipe.Base, ["base_sha256"] = hashes[0].Sha256 }, sink.Files);
        }
        out_.Commit();
        return summary;
    }
}

/// <summary>The <c>README.md</c> model card of a merge output.</summary>
internal static class ModelCard
{
    public static string Write(MergeSummary s, IReadOnlyList<(string Name, string Path, string Sha256)> inputs, IReadOnlyList<string> files)
    {
        var sb = new StringBuilder();
        sb.Append("# Merged model (").Append(s.Method.Name).Append(")\n\n");
        sb.Append("Produced by MLNetMerge with **").Append(s.Method.Name).Append("**: ").Append(s.Method.Summary).Append(".\n\n");
        sb.Append("Method reference: ").Append(s.Method.Reference).Append(".\n\n");
        sb.Append("Merged parameters: ").Append(s.MergedParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).Append(".\n\n");
        sb.Append("## Parameters\n\n| name | value |\n|---|---|\n");
        foreach (var (k, v) in s.Parameters.Effective()) sb.Append("| ").Append(k).Append(" | ").Append(Describe(v)).Append(" |\n");
        sb.Append("\n## Inputs\n\n| role | path | SHA-256 |\n|---|---|---|\n");
        foreach (var (name, path, sha) in inputs) sb.Append("| ").Append(name).Append(" | `").Append(path).Append("` | `").Append(sha).Append("` |\n");
        if (s.Notes.Count > 0)
        {
            sb.Append("\n## Run notes\n\n");
            foreach (var (k, v) in s.Notes.OrderBy(k => k.Key, StringComparer.Ordinal)) sb.Append("- ").Append(k).Append(": ").Append(v).Append('\n');
        }
        sb.Append("\n## Files\n\n");
        foreach (var f in files) sb.Append("- `").Append(f.Replace('\\', '/')).Append("`\n");
        if (s.Method.IsPerTask)
            sb.Append("\nPer-task method: `model.safetensors` holds the unified weights; `modulators.safetensors` holds each task's masks (8 per byte, least significant bit first), rescalers or low-rank factors. Task t's weights are rebuilt from them and the base (see the method reference), or written directly with `--materialize`.\n");
        return sb.ToString();
    }

    private static string Describe(ParameterValue v) => v switch
    {
        ParameterValue.Scalar s => MergeRecipe.Number(s.Value),
        ParameterValue.Text t => t.Value,
        ParameterValue.Gradient g => "[" + string.Join(", ", g.Values.Select(MergeRecipe.Number)) + "]",
        _ => "per-tensor filters",
    };
}
