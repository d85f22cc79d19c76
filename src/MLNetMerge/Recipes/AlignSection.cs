using System.Globalization;
using System.Text;
using MLNetMerge.Merging;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Alignment;

namespace MLNetMerge.Recipes;

/// <summary>Where an alignment run takes its per-task inputs: <c>align.data</c>.</summary>
/// <param name="Zoo">Zoo folder with <c>manifest.json</c> (null: the folder of the base checkpoint); absolute after reading.</param>
/// <param name="Split"><c>test</c> (transductive, the seeds' setting) or <c>validation</c>.</param>
/// <param name="Samples">Examples per task taken from the split (a seeded draw); 0 = all.</param>
internal sealed record AlignData(string? Zoo = null, string Split = "test", int Samples = 0);

/// <summary>A recipe's <c>align:</c> section: the data and the stages in order, built through the registry.</summary>
/// <param name="Data">Where the inputs come from.</param>
/// <param name="Stages">Alignment stages (each fitted on the merged model; rows <c>method+stage</c>).</param>
/// <param name="Seeds">Few-shot stages are fitted once per seed (recipe seed, +1, …) and reported as mean ± std (default 5).</param>
internal sealed record AlignPlan(AlignData Data, IReadOnlyList<IAlignmentEstimator> Stages, int Seeds = 5);

/// <summary>
/// Reads and writes the <c>align:</c> section:
/// <code>
/// align:
///   data: { zoo: .., split: test, samples: 0 }
///   seeds: 5
///   stages:
///     - { method: ft_classifier, parameters: { shots: 5, epochs: 5, learning_rate: 5e-4, batch: 1 } }
/// </code>
/// A single <c>{ method: …, parameters: … }</c> mapping in place of <c>stages:</c> is shorthand for one stage.
/// Stages are created with <c>AlignmentMethods.Find(method).Create(parameters, recipe seed)</c>.
/// </summary>
internal static class AlignSection
{
    /// <summary>Whether the recipe has an <c>align:</c> section.</summary>
    public static bool Has(MergeRecipe recipe) => recipe?.Sections.ContainsKey("align") ?? throw new ArgumentNullException(nameof(recipe));

    /// <summary>Reads the section (no section: default data and no stages).</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="methods">Where stage names are looked up (default <see cref="AlignmentMethods.All"/>).</param>
    /// <exception cref="RecipeException">Unknown key, bad value, unknown method or stage parameter; the message names the recipe file and key.</exception>
    public static AlignPlan Read(MergeRecipe recipe, IReadOnlyList<AlignmentMethod>? methods = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        string? src = recipe.Source;
        if (!recipe.Sections.TryGetValue("align", out var node)) return new AlignPlan(new AlignData(), []);
        if (node is not YamlMappingNode map) throw new RecipeException(src, "align: expected a mapping with data and stages (or method and parameters).");
        var data = new AlignData();
        int seeds = 5;
        var stageNodes = new List<(string Where, YamlNode Node)>();
        YamlMappingNode? shorthand = null;
        bool hasStages = false;
        foreach (var (k, v) in map.Children)
        {
            string key = RecipeParser.Key(k, src, "align");
            switch (key)
            {
                case "data": data = ReadData(v, recipe); break;
                case "seeds": seeds = PositiveInt(v, src, "align.seeds", allowZero: false); break;
                case "stages":
                    if (v is not YamlSequenceNode seq) throw new RecipeException(src, "align.stages: expected a list of { method, parameters } mappings.");
                    hasStages = true;
                    for (int i = 0; i < seq.Children.Count; i++) stageNodes.Add(($"align.stages[{i}]", seq.Children[i]));
                    break;
                case "method" or "parameters":
                    shorthand = map;
                    break;
                default: throw new RecipeException(src, $"align: unknown key '{key}'; expected data, seeds, stages (or method and parameters for one stage).");
            }
        }
        if (shorthand is not null)
        {
            if (hasStages) throw new RecipeException(src, "align: give either stages or one method with parameters, not both.");
            var one = new YamlMappingNode(shorthand.Children.Where(kv => (kv.Key as YamlScalarNode)?.Value is "method" or "parameters"));
            stageNodes.Add(("align", one));
        }
        var stages = stageNodes.Select(s => ReadStage(s.Node, recipe, s.Where, methods)).ToList();
        return new AlignPlan(data, stages, seeds);
    }

    private static AlignData ReadData(YamlNode node, MergeRecipe recipe)
    {
        string? src = recipe.Source;
        if (node is not YamlMappingNode map) throw new RecipeException(src, "align.data: expected a mapping { zoo, split, samples }.");
        string? zoo = null;
        string split = "test";
        int samples = 0;
        foreach (var (k, v) in map.Children)
        {
            string key = RecipeParser.Key(k, src, "align");
            switch (key)
            {
                case "zoo":
                    string z = Scalar(v, src, "align.data.zoo");
                    zoo = recipe.ResolvePath(z);
                    break;
                case "split":
                    split = Scalar(v, src, "align.data.split");
                    if (split is not ("test" or "validation")) throw new RecipeException(src, $"align.data.split: '{split}'; expected test or validation.");
                    break;
                case "samples": samples = PositiveInt(v, src, "align.data.samples", allowZero: true); break;
                default: throw new RecipeException(src, $"align.data: unknown key '{key}'; expected zoo, split or samples.");
            }
        }
        return new AlignData(zoo, split, samples);
    }

    private static IAlignmentEstimator ReadStage(YamlNode node, MergeRecipe recipe, string where, IReadOnlyList<AlignmentMethod>? methods)
    {
        string? src = recipe.Source;
        if (node is not YamlMappingNode map) throw new RecipeException(src, $"{where}: expected a mapping {{ method, parameters }}.");
        string? method = null;
        var parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            string key = RecipeParser.Key(k, src, "align");
            switch (key)
            {
                case "method": method = Scalar(v, src, where + ".method"); break;
                case "parameters":
                    if (v is not YamlMappingNode pm) throw new RecipeException(src, $"{where}.parameters: expected a mapping.");
                    foreach (var (pk, pv) in pm.Children)
                    {
                        string name = RecipeParser.Key(pk, src, "align");
                        parameters[name] = RecipeParser.ParseValue(pv, src, $"align.parameters.{name}");
                    }
                    break;
                default: throw new RecipeException(src, $"{where}: unknown key '{key}'; a stage takes method and parameters.");
            }
        }
        if (method is null) throw new RecipeException(src, $"{where}: missing 'method'.");
        try
        {
            var entry = methods is null ? AlignmentMethods.Find(method)
                : methods.FirstOrDefault(m => m.Name == method)
                  ?? throw new RecipeException(src, $"{where}: unknown alignment method '{method}'; expected one of: {string.Join(", ", methods.Select(m => m.Name))}.");
            return entry.Create(parameters, recipe.Seed);
        }
        catch (RecipeException e) when (e.File is null)
        {
            throw new RecipeException(src, $"{where}: {e.Message}", e);
        }
    }

    /// <summary>The section as YAML (<c>align:</c> and its body, two-space indents), every stage with its effective parameters.</summary>
    public static string ToYaml(AlignPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var sb = new StringBuilder();
        sb.Append("align:\n");
        sb.Append("  data: { ");
        if (plan.Data.Zoo is not null) sb.Append("zoo: ").Append(Quote(plan.Data.Zoo)).Append(", ");
        sb.Append("split: ").Append(plan.Data.Split).Append(", samples: ").Append(plan.Data.Samples.ToString(CultureInfo.InvariantCulture)).Append(" }\n");
        sb.Append("  seeds: ").Append(plan.Seeds.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("  stages:\n");
        foreach (var stage in plan.Stages)
        {
            sb.Append("    - method: ").Append(stage.Name).Append('\n');
            string body = RecipeWriter.Parameters(stage.Parameters);
            if (body.Length == 0) { sb.Append("      parameters: {}\n"); continue; }
            sb.Append("      parameters:\n");
            foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries)) sb.Append("        ").Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>As <see cref="ToYaml(AlignPlan)"/> from its parts.</summary>
    public static string ToYaml(AlignData data, IEnumerable<IAlignmentEstimator> stages, int seeds = 5) =>
        ToYaml(new AlignPlan(data ?? new AlignData(), (stages ?? throw new ArgumentNullException(nameof(stages))).ToList(), seeds));

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string Scalar(YamlNode v, string? src, string key) =>
        v is YamlScalarNode s && s.Value is not null ? s.Value : throw new RecipeException(src, $"{key}: expected a single value.");

    private static int PositiveInt(YamlNode v, string? src, string key, bool allowZero) =>
        int.TryParse(Scalar(v, src, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && (i > 0 || (allowZero && i == 0)) ? i
            : throw new RecipeException(src, $"{key}: expected a {(allowZero ? "non-negative" : "positive")} integer.");
}
