using System.Globalization;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Alignment;

namespace MLNetMerge.Recipes;

/// <summary>One fine-tuned model of a recipe.</summary>
/// <param name="Name">Task name.</param>
/// <param name="Path">Checkpoint path (absolute after loading).</param>
/// <param name="Parameters">Per-model parameters as given.</param>
internal sealed record RecipeModel(string Name, string Path, IReadOnlyDictionary<string, ParameterValue> Parameters);

/// <summary>
/// A merge recipe, schema version 1: <c>method</c>, <c>base</c>, <c>models</c>, <c>parameters</c>, <c>heads</c>,
/// <c>dtype</c>, <c>seed</c>, <c>output</c>, <c>max_shard_size</c>, <c>allow_nonfinite</c>, <c>materialize</c>, and
/// the <c>align</c>, <c>evaluate</c>, <c>export</c> and <c>sweep</c> sections. mergekit's keys <c>merge_method</c>,
/// <c>base_model</c>, <c>models[].model</c> and parameter names <c>density</c>, <c>weight</c>, <c>lambda</c> are accepted.
/// Unknown keys are errors. Relative paths resolve against the recipe's directory.
/// </summary>
internal sealed record MergeRecipe
{
    /// <summary>The schema version this library reads and writes.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Method name (canonical after loading).</summary>
    public required string Method { get; init; }

    /// <summary>Parameters implied by a mergekit method alias (e.g. <c>dare_ties</c> → <c>merge: ties</c>).</summary>
    public IReadOnlyDictionary<string, string> ImpliedParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The method name as the recipe wrote it when that was a mergekit alias (e.g. <c>della_linear</c>), for report labels.</summary>
    internal string? AliasName { get; init; }

    /// <summary>Base checkpoint path.</summary>
    public required string Base { get; init; }

    /// <summary>Fine-tuned models.</summary>
    public required IReadOnlyList<RecipeModel> Models { get; init; }

    /// <summary>Global parameters.</summary>
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; } = new Dictionary<string, ParameterValue>();

    /// <summary>Head pattern.</summary>
    public string Heads { get; init; } = Checkpoints.HeadFilter.DefaultPattern;

    /// <summary>Output dtype of merged tensors; null keeps the base's.</summary>
    public DType? DType { get; init; }

    /// <summary>Seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>Output directory.</summary>
    public string? Output { get; init; }

    /// <summary>Largest model shard in bytes (null: one file).</summary>
    public long? MaxShardBytes { get; init; }

    /// <summary>Accept NaN/Inf inputs.</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Tasks to materialize.</summary>
    public IReadOnlyList<string> Materialize { get; init; } = [];

    /// <summary>Raw later-stage sections (<c>align</c>, <c>evaluate</c>, <c>export</c>, <c>sweep</c>) as YAML nodes.</summary>
    public IReadOnlyDictionary<string, YamlNode> Sections { get; init; } = new Dictionary<string, YamlNode>();

    /// <summary>Where the recipe was read from (for messages).</summary>
    public string? Source { get; init; }

    /// <summary>The folder relative paths resolve against (the recipe file's folder; the working directory for text
    /// parsed without one).</summary>
    public string BaseDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>A path of the recipe resolved against <see cref="BaseDirectory"/> (absolute paths unchanged).</summary>
    public string ResolvePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0', StringComparison.Ordinal)) throw new RecipeException(Source, $"the path '{path.Replace("\0", "\\0", StringComparison.Ordinal)}' holds a NUL character, which no file name may.");
        return Path.IsPathRooted(path) ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(BaseDirectory, path));
    }

    /// <summary>Reads a recipe file.</summary>
    /// <exception cref="RecipeException">Invalid YAML, unknown key or bad value.</exception>
    public static MergeRecipe Load(string path)
    {
        if (Directory.Exists(path)) throw new RecipeException(path, "is a folder; give the recipe's YAML file.");
        if (!File.Exists(path)) throw new RecipeException(path, "recipe file not found.");
        return Parse(File.ReadAllText(path), path, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
    }

    /// <summary>Parses recipe text; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static MergeRecipe Parse(string yaml, string? source = null, string? baseDirectory = null) =>
        RecipeParser.Parse(yaml, source, baseDirectory ?? Directory.GetCurrentDirectory());

    /// <summary>This recipe with <paramref name="values"/> set among its global parameters (a sweep point).</summary>
    public MergeRecipe WithParameters(IReadOnlyDictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var parameters = new Dictionary<string, ParameterValue>(Parameters, StringComparer.Ordinal);
        foreach (var (k, v) in values) parameters[k] = new ParameterValue.Scalar(v);
        return this with { Parameters = parameters };
    }

    /// <summary>Checks the parameters against the method and returns them resolved.</summary>
    public MergeParameters ResolveParameters()
    {
        var (method, _) = MergeMethods.Find(Method, Source);
        var global = MergeMethods.WithImplied(method, Parameters, ImpliedParameters);
        return new MergeParameters(method, global, Models.Select(m => m.Parameters).ToList(), Source);
    }

    /// <summary>The resolved recipe as YAML: canonical names, every parameter with its effective value.</summary>
    public string ToYaml(MergeParameters? resolved = null) => RecipeWriter.Write(this, resolved ?? ResolveParameters(), relativeTo: BaseDirectory);

    /// <summary>Opens the recipe's family (base and models, with its head pattern).</summary>
    public Encoders.ModelFamily OpenFamily(Encoders.ModelFamilyOptions? options = null) =>
        Encoders.ModelFamily.Load(Base, Models.Select(m => (m.Name, m.Path)), new Encoders.ModelFamilyOptions { Heads = Heads, Reader = options?.Reader });

    internal static string Number(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
