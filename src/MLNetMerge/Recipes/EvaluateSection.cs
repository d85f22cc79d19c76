using System.Globalization;
using MLNetMerge.Evaluation;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>A recipe's <c>evaluate:</c> section (every key optional):
/// <c>evaluate: { zoo: .., protocols: [current, knn, ft_classifier], shots: 5, seeds: 5, ftc_shots: [1, 5], report: out/x/report.json }</c>.</summary>
/// <param name="Zoo">Zoo folder with <c>manifest.json</c>, absolute (null: the folder of the base checkpoint).</param>
/// <param name="Protocols">Protocols: <c>current</c>, <c>knn</c> (default both), <c>ft_classifier</c> (FT-Classifier Eval,
/// one protocol <c>ftc{k}</c> per k of <see cref="FtcShots"/>).</param>
/// <param name="Shots">KNN anchors per class (default 5).</param>
/// <param name="Seeds">Draws of the few-shot protocols (default 5).</param>
/// <param name="Report">Where <c>report.json</c> goes, absolute (null: the run's output folder, else <c>out/&lt;command&gt;/&lt;recipe name&gt;/</c>).</param>
internal sealed record EvaluateSection(string? Zoo, IReadOnlyList<string> Protocols, int Shots, int Seeds, string? Report)
{
    /// <summary>Shots per class of FT-Classifier Eval (key <c>ftc_shots</c>, default 1, 5, 10, 20).</summary>
    public IReadOnlyList<int> FtcShots { get; init; } = FtClassifierEvalProtocol.DefaultShots;

    /// <summary>The defaults (Current and KNN, 5 shots, 5 seeds).</summary>
    public static EvaluateSection Default { get; } = new(null, ["current", "knn"], 5, 5, null);

    /// <summary>Reads the section (none: <see cref="Default"/>).</summary>
    /// <exception cref="RecipeException">A key is unknown or a value is malformed.</exception>
    public static EvaluateSection Read(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (!recipe.Sections.TryGetValue("evaluate", out var node)) return Default;
        if (node is not YamlMappingNode map) throw new RecipeException(recipe.Source, "evaluate: expected a mapping { zoo, protocols, shots, seeds, ftc_shots, report }.");
        string? zoo = null, report = null;
        var protocols = new List<string> { "current", "knn" };
        int shots = 5, seeds = 5;
        IReadOnlyList<int> ftcShots = FtClassifierEvalProtocol.DefaultShots;
        foreach (var (k, v) in map.Children)
        {
            string key = RecipeParser.Key(k, recipe.Source, "evaluate");
            switch (key)
            {
                case "zoo": zoo = recipe.ResolvePath(Scalar(v, recipe, key)); break;
                case "report": report = recipe.ResolvePath(Scalar(v, recipe, key)); break;
                case "shots": shots = Int(v, recipe, key, MaxShots); break;
                case "seeds": seeds = Int(v, recipe, key, MaxSeeds); break;
                case "ftc_shots":
                    ftcShots = v is YamlSequenceNode fs ? fs.Children.Select(c => Int(c, recipe, key, MaxShots)).ToList() : [Int(v, recipe, key, MaxShots)];
                    break;
                case "protocols":
                    protocols = v is YamlSequenceNode seq ? seq.Children.Select(c => Scalar(c, recipe, key)).ToList() : [Scalar(v, recipe, key)];
                    foreach (var p in protocols)
                        if (p is not ("current" or "knn" or "ft_classifier")) throw new RecipeException(recipe.Source, $"evaluate.protocols: unknown protocol '{p}'; expected current, knn or ft_classifier.");
                    break;
                default: throw new RecipeException(recipe.Source, $"evaluate: unknown key '{key}'; expected zoo, protocols, shots, seeds, ftc_shots or report.");
            }
        }
        if (protocols.Count == 0) throw new RecipeException(recipe.Source, "evaluate.protocols: an empty list; expected one or more of current, knn, ft_classifier.");
        if (protocols.GroupBy(p => p).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new RecipeException(recipe.Source, $"evaluate.protocols: '{twice.Key}' is listed twice.");
        if (ftcShots.Count == 0) throw new RecipeException(recipe.Source, "evaluate.ftc_shots: an empty list; expected shots per class, e.g. [1, 5].");
        if (ftcShots.GroupBy(k => k).FirstOrDefault(g => g.Count() > 1) is { } again)
            throw new RecipeException(recipe.Source, $"evaluate.ftc_shots: {again.Key} is listed twice.");
        bool Given(string key) => map.Children.Keys.Any(k => k is YamlScalarNode { Value: var v } && v == key);
        if (Given("ftc_shots") && !protocols.Contains("ft_classifier"))
            throw new RecipeException(recipe.Source, "evaluate.ftc_shots: set, but the protocols do not include ft_classifier, which alone reads it.");
        if (Given("seeds") && !protocols.Contains("knn") && !protocols.Contains("ft_classifier"))
            throw new RecipeException(recipe.Source, "evaluate.seeds: set, but the protocols include neither knn nor ft_classifier, which alone draw seeds.");
        if (Given("shots") && !protocols.Contains("knn"))
            throw new RecipeException(recipe.Source, "evaluate.shots: set, but the protocols do not include knn, which alone reads it.");
        return new EvaluateSection(zoo, protocols, shots, seeds, report) { FtcShots = ftcShots };
    }

    private static string Scalar(YamlNode v, MergeRecipe recipe, string key) =>
        v is YamlScalarNode s && s.Value is not null ? s.Value : throw new RecipeException(recipe.Source, $"evaluate.{key}: expected a single value.");

    /// <summary>Most draws a few-shot protocol runs (each a full evaluation of every task: 2·10⁹ ran for hours unbounded).</summary>
    public const int MaxSeeds = 10_000;

    /// <summary>Most examples per class a few-shot protocol draws (align's bound).</summary>
    public const int MaxShots = 1_000_000;

    private static int Int(YamlNode v, MergeRecipe recipe, string key, int max) =>
        int.TryParse(Scalar(v, recipe, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i > 0 && i <= max ? i
            : throw new RecipeException(recipe.Source, $"evaluate.{key}: expected a whole number from 1 to {max:N0}.");
}
