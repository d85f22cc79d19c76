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
        new TaskSingularVectors(),
        new IsoC(),
        new IsoCts(),
        new Wudi(),
        new Lines(),
        new Pcb(),
        new Tatr(),
        new NuSlerp(),
        new MultiSlerp(),
        new Karcher(),
        new Sce(),
        new NearSwap(),
        new ArceeFusion(),
    ];

    /// <summary>
    /// mergekit's method names mapped to ours plus the parameters they imply, each a default the recipe may override
    /// (e.g. <c>dare_ties</c> is <c>dare</c> with <c>merge: ties</c> and mergekit's disjoint sum, <c>normalize: false</c>).
    /// Implied λ values are mergekit's default of 1 where ours differs (docs/methods/mergekit-parity.md).
    /// </summary>
    public static IReadOnlyDictionary<string, (string Method, IReadOnlyDictionary<string, string> Implied)> Aliases { get; } =
        new Dictionary<string, (string, IReadOnlyDictionary<string, string>)>(StringComparer.Ordinal)
        {
            ["linear"] = ("weight_average", new Dictionary<string, string>()),
            ["average"] = ("weight_average", new Dictionary<string, string>()),
            ["ta"] = ("task_arithmetic", new Dictionary<string, string>()),
            ["dare_ties"] = ("dare", new Dictionary<string, string> { ["merge"] = "ties", ["normalize"] = "false" }),
            ["dare_linear"] = ("dare", new Dictionary<string, string> { ["merge"] = "ta", ["scale"] = "1" }),
            ["breadcrumbs_ties"] = ("breadcrumbs", new Dictionary<string, string> { ["sign_consensus"] = "true", ["scale"] = "1" }),
            ["della_linear"] = ("della", new Dictionary<string, string> { ["sign_consensus"] = "false", ["merge"] = "sum" }),
            ["emr_merging"] = ("emr", new Dictionary<string, string>()),
            ["tall_masks"] = ("tall", new Dictionary<string, string>()),
        };

    /// <summary>
    /// The recipe's global parameters plus an alias's implied ones; an implied value is added only where the recipe set
    /// that parameter under none of its names (so <c>della_linear</c> with mergekit's <c>normalize: true</c> overrides the
    /// implied <c>merge: sum</c> instead of giving it twice).
    /// </summary>
    internal static Dictionary<string, ParameterValue> WithImplied(MergeMethod method, IReadOnlyDictionary<string, ParameterValue> given,
        IReadOnlyDictionary<string, string> implied)
    {
        var global = new Dictionary<string, ParameterValue>(given, StringComparer.Ordinal);
        foreach (var (k, v) in implied)
        {
            var decl = method.Parameters.FirstOrDefault(p => p.Name == k);
            var names = decl is null ? [k] : decl.Aliases.Select(a => a.Name).Append(decl.Name);
            if (!names.Any(global.ContainsKey))
                global[k] = double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double x)
                    ? new ParameterValue.Scalar(x) : new ParameterValue.Text(v);
        }
        return global;
    }

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
