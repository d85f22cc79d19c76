using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>
/// How a recipe that names its method with mergekit's key <c>merge_method</c> is read: as mergekit reads it
/// (docs/methods/mergekit-parity.md). Its defaults replace this project's where they differ — λ 1 and density 1 (no
/// sparsification) for the generalised task arithmetic methods, TIES's exact per-tensor top-k, slerp of the weights — and
/// its structural rules apply: the base model listed under <c>models</c> is left out of the task set (mergekit skips it
/// when it forms task vectors), except for methods that take it as a model (linear, karcher, slerp); slerp runs from
/// <c>base_model</c> (t = 0) to the other model, which mergekit requires to be the base and one other; nuslerp refuses the
/// base among its two models, as mergekit does. Every choice lands in the recipe's parameters and model list, so the saved
/// <c>recipe.yaml</c> (written with <c>method:</c>) reproduces the same merge.
/// </summary>
internal static class MergekitDialect
{
    /// <summary>mergekit's defaults where ours differ, by our method name (each applies only where the recipe sets that parameter under none of its names).</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Defaults = new(StringComparer.Ordinal)
    {
        ["task_arithmetic"] = new() { ["scale"] = "1" },
        ["ties"] = new() { ["scale"] = "1", ["keep"] = "1", ["trim"] = "top_k", ["sign_tie"] = "positive" },
        ["dare"] = new() { ["scale"] = "1", ["drop"] = "0", ["sign_tie"] = "positive" },
        ["breadcrumbs"] = new() { ["scale"] = "1", ["density"] = "1", ["sign_tie"] = "positive" },
        ["della"] = new() { ["scale"] = "1", ["density"] = "1", ["sign_tie"] = "positive" },
        ["slerp"] = new() { ["over"] = "weights" },
    };

    /// <summary>Methods for which mergekit keeps a listed base model as one of the models.</summary>
    private static readonly HashSet<string> BaseIsAModel = new(StringComparer.Ordinal) { "weight_average", "karcher", "slerp" };

    /// <summary>Methods that may run without <c>base_model</c> in mergekit (linear, karcher, and nuslerp / multislerp over
    /// the raw weights): the first model then stands in as the base, for tensor names and shapes only.</summary>
    public static bool TakesNoBase(MergeMethod method) => method.Name is "weight_average" or "karcher" or "nuslerp" or "multislerp";

    /// <summary>Methods for which mergekit requires a per-model <c>weight</c>.</summary>
    private static readonly HashSet<string> WeightRequired = new(StringComparer.Ordinal) { "weight_average", "task_arithmetic", "ties", "dare", "breadcrumbs", "della" };

    /// <summary>Applies the dialect to a parsed recipe's models and implied parameters.</summary>
    /// <param name="method">The method.</param>
    /// <param name="name">The name the recipe gave it (mergekit's).</param>
    /// <param name="models">The models as listed.</param>
    /// <param name="basePath">The resolved <c>base_model</c>, or null when the recipe gave none.</param>
    /// <param name="parameters">The recipe's global parameters.</param>
    /// <param name="implied">Parameters implied so far (an alias's).</param>
    /// <param name="source">The recipe file, for errors.</param>
    /// <exception cref="RecipeException">slerp without the base among its two models, nuslerp with it, or a model without
    /// the <c>weight</c> mergekit requires, or nearswap without its <c>t</c>.</exception>
    public static (List<RecipeModel> Models, Dictionary<string, string> Implied) Apply(MergeMethod method, string name, List<RecipeModel> models,
        string? basePath, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyDictionary<string, string> implied, string? source)
    {
        var allImplied = new Dictionary<string, string>(implied, StringComparer.Ordinal);
        if (Defaults.TryGetValue(method.Name, out var defaults))
            foreach (var (k, v) in defaults) allImplied.TryAdd(k, v);
        // The base listed among the models needs no weight where it leaves the task set (mergekit's README lists it bare).
        bool Leaves(RecipeModel x) => basePath is not null && !BaseIsAModel.Contains(method.Name) && IsBase(x.Path, basePath);
        if (WeightRequired.Contains(method.Name) && !parameters.ContainsKey("weight") && models.FirstOrDefault(x => !Leaves(x) && !x.Parameters.ContainsKey("weight")) is { } unweighted)
            throw new RecipeException(source, $"mergekit's {name} requires a 'weight' for every model; model '{unweighted.Name}' has none (give it under the model's parameters, or one for all under 'parameters').");
        if (method.Name == "nearswap" && !parameters.ContainsKey("t"))
            throw new RecipeException(source, $"mergekit's {name} requires 't', the sameness threshold (e.g. t: 0.0001), under 'parameters'.");
        if (basePath is null)
        {
            // No base: the first model stands in for shapes; nuslerp and multislerp then interpolate the raw weights.
            if (method.Name is "nuslerp" or "multislerp") allImplied.TryAdd("over", "weights");
            return (models, allImplied);
        }
        int baseAt = models.FindIndex(m => IsBase(m.Path, basePath));
        switch (method.Name)
        {
            case "slerp":
                if (baseAt < 0)
                    throw new RecipeException(source, "slerp (mergekit) interpolates from base_model (t = 0) to the other model; list base_model as one of its two models.");
                return ([models[baseAt], .. models.Where((_, i) => i != baseAt)], allImplied);
            case "nuslerp" when baseAt >= 0:
                throw new RecipeException(source, $"nuslerp: base_model is also listed as model '{models[baseAt].Name}'; mergekit refuses that (with a base, nuslerp interpolates the two other models' task vectors).");
            default:
                if (baseAt >= 0 && !BaseIsAModel.Contains(method.Name)) models = [.. models.Where((_, i) => i != baseAt)];
                return (models, allImplied);
        }
    }

    /// <summary>True when a model entry names the base checkpoint (the same path once resolved).</summary>
    internal static bool IsBase(string modelPath, string basePath) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelPath)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(basePath)), StringComparison.Ordinal);
}
