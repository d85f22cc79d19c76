using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>
/// A recipe's <c>sweep:</c> section, a full grid of merge parameters (<c>sweep: { keep: [0.1, 0.2], scale: [0.5, 1.0] }</c>);
/// the runner merges every point, scores it on the labeled validation split (Current protocol) and keeps the point with
/// the best mean validation accuracy (the first on ties) — selection never sees test.
/// </summary>
/// <param name="Grid">Parameter name → candidate values, in recipe order.</param>
internal sealed record SweepSection(IReadOnlyList<(string Name, IReadOnlyList<double> Values)> Grid)
{
    /// <summary>Whether the section lists any parameter.</summary>
    public bool IsEmpty => Grid.Count == 0;

    /// <summary>Reads the section (none: an empty grid).</summary>
    /// <exception cref="RecipeException">Not a mapping of names to non-empty lists of numbers, or a value the method does not accept (an unknown parameter, out of range, not whole where declared an integer).</exception>
    public static SweepSection Read(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var grid = new List<(string, IReadOnlyList<double>)>();
        if (!recipe.Sections.TryGetValue("sweep", out var node)) return new SweepSection(grid);
        if (node is not YamlMappingNode map) throw new RecipeException(recipe.Source, "sweep: expected a mapping of parameter names to lists of values.");
        if (map.Children.Count == 0) throw new RecipeException(recipe.Source, "sweep: empty; name parameters and their candidate values, or leave the section out.");
        foreach (var (k, v) in map.Children)
        {
            string key = RecipeParser.Key(k, recipe.Source, "sweep");
            if (v is not YamlSequenceNode seq || seq.Children.Count == 0) throw new RecipeException(recipe.Source, $"sweep.{key}: expected a non-empty list of numbers.");
            grid.Add((key, seq.Children.Select(c => c is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                ? d : throw new RecipeException(recipe.Source, $"sweep.{key}: '{(c as YamlScalarNode)?.Value}' is not a number.")).ToList()));
        }
        foreach (var (key, values) in grid)
            if (values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new RecipeException(recipe.Source, $"sweep.{key}: {twice.Key.ToString(CultureInfo.InvariantCulture)} is listed twice (it would be merged and evaluated twice).");
        // A swept parameter the recipe also fixes would be overridden (parameters:) or never change (set by every model).
        var method = recipe.ResolveParameters().Method;
        string Canonical(string name) => method.FindParameter(name)?.Declaration.Name ?? name;
        var swept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, _) in grid)
        {
            string name = Canonical(key);
            if (!swept.TryAdd(name, key))
                throw new RecipeException(recipe.Source, $"sweep.{key}: names the same parameter as sweep.{swept[name]} ({name}); sweep it once.");
            if (recipe.Parameters.Keys.FirstOrDefault(k => Canonical(k) == name) is { } fixedKey)
                throw new RecipeException(recipe.Source, $"sweep.{key}: 'parameters' also sets {fixedKey}; the sweep would replace it. Keep one.");
            if (recipe.Models.Count > 0 && recipe.Models.All(m => m.Parameters.Keys.Any(k => Canonical(k) == name)))
                throw new RecipeException(recipe.Source, $"sweep.{key}: every model sets {name} under its own parameters, so the sweep would change nothing. Remove it from the models or from the sweep.");
        }
        // Every value is checked against the method's declaration now, not when the sweep reaches it.
        foreach (var (key, values) in grid)
            foreach (double v in values)
                recipe.WithParameters(new Dictionary<string, double>(StringComparer.Ordinal) { [key] = v }).ResolveParameters();
        return new SweepSection(grid);
    }

    /// <summary>Every combination of the grid, first parameter varying slowest.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Points()
    {
        var result = new List<Dictionary<string, double>> { new(StringComparer.Ordinal) };
        foreach (var (name, values) in Grid)
            result = result.SelectMany(r => values.Select(v => new Dictionary<string, double>(r, StringComparer.Ordinal) { [name] = v })).ToList();
        return result;
    }

    /// <summary>A point as <c>scale=0.3, keep=0.2</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, double> point) =>
        string.Join(", ", (point ?? throw new ArgumentNullException(nameof(point))).Select(kv => $"{kv.Key}={kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
}
