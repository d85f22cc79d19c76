using System.Globalization;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

using MLNetMerge.Recipes;

namespace MLNetMerge.Tests;

/// <summary>
/// Recipes and pipelines are two views of one thing: a recipe's method, parameters, per-model parameters, seed and
/// <c>align:</c> stages become a <see cref="MergePipeline"/>, and a pipeline plus the family it runs on becomes a recipe.
/// </summary>
internal static class RecipePipelines
{
    /// <summary>The pipeline a recipe describes: its merge estimator (recipe seed) followed by its <c>align.stages</c>.</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="alignmentMethods">Where stage names are looked up (default <see cref="AlignmentMethods.All"/>).</param>
    /// <exception cref="RecipeException">Bad parameters, or an unknown or malformed stage.</exception>
    public static MergePipeline ToPipeline(this MergeRecipe recipe, IReadOnlyList<AlignmentMethod>? alignmentMethods = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var (method, _) = MergeMethods.Find(recipe.Method, recipe.Source);
        var global = new Dictionary<string, ParameterValue>(recipe.Parameters, StringComparer.Ordinal);
        foreach (var (k, v) in recipe.ImpliedParameters)
            if (!global.ContainsKey(k)) global[k] = new ParameterValue.Text(v);
        var perModel = recipe.Models.Where(m => m.Parameters.Count > 0)
            .ToDictionary(m => m.Name, m => m.Parameters, StringComparer.Ordinal);
        var merge = new MergeEstimator(method, global, perModel, recipe.Seed);
        var stages = AlignSection.Read(recipe, alignmentMethods).Stages;
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

    private static string Scalar(YamlNode node, MergeRecipe recipe, string what) =>
        node is YamlScalarNode s && s.Value is not null ? s.Value : throw new RecipeException(recipe.Source, $"{what}: expected a single value (line {node.Start.Line}).");

    private static int Count(YamlNode node, MergeRecipe recipe, string what) =>
        int.TryParse(Scalar(node, recipe, what), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n
            : throw new RecipeException(recipe.Source, $"{what}: expected a non-negative integer.");
}
