using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Merging;

/// <summary>The registry of data-free merge methods: an explicit list, nothing registers itself.</summary>
internal static class MergeMethods
{
    /// <summary>Every method, in the order the docs list them.</summary>
    public static IReadOnlyList<MergeMethod> All { get; } =
    [
        new WeightAverage(),
        new TaskArithmetic(),
        new Ties(),
        new Dare(),
        new MagMax(),
        new Consensus(),
        new Tall(),
        new Emr(),
        new Cart(),
        new Slerp(),
        new ModelStock(),
        new Breadcrumbs(),
        new Della(),
        new CartIndexing(),
    ];

    /// <summary>
    /// mergekit's method names mapped to ours plus the parameters they imply
    /// (e.g. <c>dare_ties</c> is <c>dare</c> with <c>merge: ties</c>).
    /// </summary>
    public static IReadOnlyDictionary<string, (string Method, IReadOnlyDictionary<string, string> Implied)> Aliases { get; } =
        new Dictionary<string, (string, IReadOnlyDictionary<string, string>)>(StringComparer.Ordinal)
        {
            ["linear"] = ("weight_average", new Dictionary<string, string>()),
            ["average"] = ("weight_average", new Dictionary<string, string>()),
            ["ta"] = ("task_arithmetic", new Dictionary<string, string>()),
            ["dare_ties"] = ("dare", new Dictionary<string, string> { ["merge"] = "ties" }),
            ["dare_linear"] = ("dare", new Dictionary<string, string> { ["merge"] = "ta" }),
            ["breadcrumbs_ties"] = ("breadcrumbs", new Dictionary<string, string> { ["sign_consensus"] = "true" }),
            ["della_linear"] = ("della", new Dictionary<string, string>()),
            ["emr_merging"] = ("emr", new Dictionary<string, string>()),
            ["tall_masks"] = ("tall", new Dictionary<string, string>()),
        };

    /// <summary>Finds a method by name or mergekit alias.</summary>
    /// <exception cref="RecipeException">Unknown name; the message lists the known ones.</exception>
    public static (MergeMethod Method, IReadOnlyDictionary<string, string> Implied) Find(string name, string? source = null)
    {
        var m = All.FirstOrDefault(x => x.Name == name);
        if (m is not null) return (m, new Dictionary<string, string>());
        if (Aliases.TryGetValue(name, out var alias)) return (All.First(x => x.Name == alias.Method), alias.Implied);
        throw new RecipeException(source, $"unknown method '{name}'; known: {string.Join(", ", All.Select(x => x.Name))} (mergekit names: {string.Join(", ", Aliases.Keys)}).");
    }
}
