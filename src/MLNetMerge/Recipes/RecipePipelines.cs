using System.Globalization;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Recipes;

/// <summary>One alignment stage of a recipe's <c>align.stages</c> list.</summary>
/// <param name="Method">Stage recipe name.</param>
/// <param name="Parameters">Its parameters.</param>
public sealed record PipelineAlignStage(string Method, IReadOnlyDictionary<string, ParameterValue> Parameters);

/// <summary>
/// Recipes and pipelines are two views of one thing: a recipe's method, parameters, per-model parameters, seed and
/// <c>align:</c> stages become a <see cref="MergePipeline"/>, and a pipeline plus the family it runs on becomes a recipe.
/// </summary>
public static class RecipePipelines
{
    /// <summary>The pipeline a recipe describes: its merge estimator (recipe seed) followed by its <c>align.stages</c>.</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="alignmentMethods">Where stage names are looked up (default <see cref="AlignmentMethods.All"/>).</param>
    /// <exception cref="RecipeException">Bad parameters, or an unknown or malformed stage.</exception>
    public static MergePipeline ToPipeline(MergeRecipe recipe, IReadOnlyList<AlignmentMethod>? alignmentMethods = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var (method, _) = MergeMethods.Find(recipe.Method, recipe.Source);
        var global = new Dictionary<string, ParameterValue>(recipe.Parameters, StringComparer.Ordinal);
        foreach (var (k, v) in recipe.ImpliedParameters)
            if (!global.ContainsKey(k)) global[k] = new ParameterValue.Text(v);
        var perModel = recipe.Models.Where(m => m.Parameters.Count > 0)
            .ToDictionary(m => m.Name, m => m.Parameters, StringComparer.Ordinal);
        var merge = new MergeEstimator(method, global, perModel, recipe.Seed);
        var stages = alignmentMethods is null ? AlignSection.Read(recipe).Stages
            : ReadAlignStages(recipe).Select(s => Find(s.Method, alignmentMethods, recipe.Source).Create(s.Parameters, recipe.Seed)).ToList();
        return MergePipeline.Create(merge, stages);
    }

    /// <summary>A pipeline as a recipe over <paramref name="family"/> (see <see cref="MergePipeline.ToRecipe"/>).</summary>
    public static MergeRecipe ToRecipe(MergePipeline pipeline, ModelFamily family, AlignData? alignData = null, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(family);
        var merge = pipeline.Merge;
        var models = family.Tasks.Select(t => new RecipeModel(t.Name, Path.GetFullPath(t.Reader.Path),
            merge.ModelParameters.TryGetValue(t.Name, out var p) ? p : new Dictionary<string, ParameterValue>())).ToList();
        var sections = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (pipeline.Stages.Count > 0 || alignData is not null)
            sections["align"] = AlignNode(AlignSection.ToYaml(alignData ?? new AlignData(), pipeline.Stages));
        return new MergeRecipe
        {
            Method = merge.Method.Name, Base = Path.GetFullPath(family.Base.Path), Models = models,
            Parameters = new Dictionary<string, ParameterValue>(merge.Parameters, StringComparer.Ordinal), Heads = family.Heads.Pattern,
            Seed = (merge as MergeEstimator)?.Seed ?? 0, Output = output, Sections = sections,
        };
    }

    /// <summary>Reads <c>align.stages</c> (empty without an <c>align:</c> section).</summary>
    /// <exception cref="RecipeException">A malformed stage.</exception>
    public static IReadOnlyList<PipelineAlignStage> ReadAlignStages(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var result = new List<PipelineAlignStage>();
        if (Align(recipe) is not { } align) return result;
        foreach (var (k, _) in align.Children)
        {
            string key = Scalar(k, recipe, "align");
            if (key is not ("data" or "stages" or "seeds")) throw new RecipeException(recipe.Source, $"align: unknown key '{key}'; expected data, seeds and stages.");
        }
        if (!align.Children.TryGetValue(new YamlScalarNode("stages"), out var node)) return result;
        if (node is not YamlSequenceNode seq) throw new RecipeException(recipe.Source, "align.stages: expected a list of { method, parameters }.");
        int i = 0;
        foreach (var item in seq.Children)
        {
            if (item is not YamlMappingNode map) throw new RecipeException(recipe.Source, $"align.stages[{i}]: expected {{ method, parameters }}.");
            string? method = null;
            var parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                string key = Scalar(k, recipe, $"align.stages[{i}]");
                if (key == "method") method = Scalar(v, recipe, $"align.stages[{i}].method");
                else if (key == "parameters")
                {
                    if (v is not YamlMappingNode pm) throw new RecipeException(recipe.Source, $"align.stages[{i}].parameters: expected a mapping.");
                    foreach (var (pk, pv) in pm.Children) parameters[Scalar(pk, recipe, "parameter")] = RecipeParser.ParseValue(pv, recipe.Source);
                }
                else throw new RecipeException(recipe.Source, $"align.stages[{i}]: unknown key '{key}'; a stage takes method and parameters.");
            }
            result.Add(new PipelineAlignStage(method ?? throw new RecipeException(recipe.Source, $"align.stages[{i}]: missing 'method'."), parameters));
            i++;
        }
        return result;
    }

    /// <summary>The <c>align:</c> node of YAML text written by <see cref="AlignSection.ToYaml(AlignPlan)"/>.</summary>
    public static YamlNode AlignNode(string alignYaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(alignYaml));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("align")];
    }

    /// <summary>A parameter value as YAML (the inverse of the recipe parser's value reading).</summary>
    public static YamlNode ValueNode(ParameterValue value) => value switch
    {
        ParameterValue.Scalar s => new YamlScalarNode(MergeRecipe.Number(s.Value)),
        ParameterValue.Text t => new YamlScalarNode(t.Value),
        ParameterValue.Gradient g => new YamlSequenceNode(g.Values.Select(v => (YamlNode)new YamlScalarNode(MergeRecipe.Number(v)))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow },
        ParameterValue.Filtered f => new YamlSequenceNode(f.Entries.Select(e =>
        {
            var m = new YamlMappingNode { Style = YamlDotNet.Core.Events.MappingStyle.Flow };
            if (e.Filter is not null) m.Add("filter", e.Filter);
            m.Add("value", ValueNode(e.Value));
            return (YamlNode)m;
        })),
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    private static AlignmentMethod Find(string name, IReadOnlyList<AlignmentMethod>? methods, string? source) =>
        methods is null ? AlignmentMethods.Find(name)
            : methods.FirstOrDefault(m => m.Name == name)
              ?? throw new RecipeException(source, $"unknown alignment method '{name}'; expected one of: {string.Join(", ", methods.Select(m => m.Name))}.");

    private static YamlMappingNode? Align(MergeRecipe recipe) =>
        !recipe.Sections.TryGetValue("align", out var node) ? null
            : node as YamlMappingNode ?? throw new RecipeException(recipe.Source, "align: expected a mapping { data, stages }.");

    private static string Resolve(MergeRecipe recipe, string path) =>
        Path.IsPathRooted(path) ? path
            : Path.GetFullPath(Path.Combine(recipe.Source is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(recipe.Source))!, path));

    private static string Scalar(YamlNode node, MergeRecipe recipe, string what) =>
        node is YamlScalarNode s && s.Value is not null ? s.Value : throw new RecipeException(recipe.Source, $"{what}: expected a single value (line {node.Start.Line}).");

    private static int Count(YamlNode node, MergeRecipe recipe, string what) =>
        int.TryParse(Scalar(node, recipe, what), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n
            : throw new RecipeException(recipe.Source, $"{what}: expected a non-negative integer.");
}
