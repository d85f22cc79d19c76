using MLNetMerge.Alignment;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge;

/// <summary>
/// Recipes and merge estimators are two views of one thing: a recipe's base, models, head pattern, method, parameters,
/// per-model parameters, seed and first <c>align.stages</c> entry make a <see cref="MergeEstimator"/>, and an estimator
/// writes itself back as a recipe with the same method, parameters and seed.
/// </summary>
internal static class RecipeEstimators
{
    /// <summary>The estimator <paramref name="recipe"/> describes, over a family opened from its checkpoints, serving
    /// <paramref name="task"/> alone when given.</summary>
    /// <exception cref="RecipeException">Bad parameters, an unknown stage, or more than one stage (a merge takes one).</exception>
    public static MergeEstimator FromRecipe(Microsoft.ML.MLContext ml, MergeRecipe recipe, string? task = null)
    {
        var resolved = recipe.ResolveParameters();                    // checks the method and every parameter first
        var plan = AlignSection.Read(recipe);
        if (plan.Stages.Count > 1)
            throw new RecipeException(recipe.Source, $"align.stages lists {plan.Stages.Count} stages; an ML.NET merge estimator takes one (run the recipe with RunRecipe for a chain of stages).");
        var global = MergeMethods.WithImplied(resolved.Method, recipe.Parameters, recipe.ImpliedParameters);
        var perModel = recipe.Models.ToDictionary(m => m.Name, m => m.Parameters, StringComparer.Ordinal);
        var options = new RecipeMethodOptions(resolved.Method.Name, global, perModel) { Seed = recipe.Seed, Task = task };
        var family = MergeFamily.Open(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)), new MergeFamilyOptions { Heads = recipe.Heads });
        try
        {
            var estimator = new MergeEstimator(ml, family, options);
            return plan.Stages is [var stage] ? estimator.Append(new AlignmentStage(new RecipeStageOptions(stage.Name, stage.Parameters))) : estimator;
        }
        catch
        {
            family.Dispose();
            throw;
        }
    }

    /// <summary>The recipe of <paramref name="estimator"/> as YAML, paths relative to <paramref name="recipeDirectory"/>.</summary>
    public static string ToYaml(MergeEstimator estimator, string recipeDirectory)
    {
        var family = estimator.Family.Family;
        var parameters = estimator.Parameters();
        var models = family.Tasks.Select((t, i) => new RecipeModel(t.Name, Path.GetFullPath(t.Reader.Path), parameters.PerModel(i))).ToList();
        var sections = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (estimator.Family.Unrecorded)
            throw new InvalidOperationException("the family was loaded with MergeFamilyOptions.ConfigPath or ClassNames, which a recipe does not carry: FromRecipe would read the config beside the base and other class names. Put config.json (and the heads' id2label) beside the checkpoints, or keep the estimator in code.");
        ulong seed = estimator.Seed;
        if (estimator.Stage is { } stage) sections["align"] = AlignNode(AlignSection.ToYaml(new AlignData(), [stage.Create(seed)]));
        var recipe = new MergeRecipe
        {
            Method = estimator.Method.Name, Base = Path.GetFullPath(family.Base.Path), Models = models,
            Parameters = estimator.Options.RecipeParameters(), Heads = family.Heads.Pattern, Seed = seed, Sections = sections,
        };
        return RecipeWriter.Write(recipe, parameters, relativeTo: Path.GetFullPath(recipeDirectory));
    }

    /// <summary>The <c>align:</c> node of YAML text written by <see cref="AlignSection.ToYaml(AlignPlan)"/>.</summary>
    private static YamlNode AlignNode(string alignYaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(alignYaml));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("align")];
    }
}
