using MLNetMerge.Encoders;

namespace MLNetMerge.Merging;

/// <summary>
/// Warnings for the structural rules of a recipe that match nothing in the family, so a rule that does not apply is
/// said, not silently dropped: the head pattern (no tensor of any model is a head, so nothing is kept per task), a
/// parameter's <c>{filter, value}</c> entry whose filter is in no merged tensor's name, and a per-layer list on a model
/// whose tensor names carry no layer index (every tensor then takes an end value). The warnings become notes of the
/// merge (<see cref="MergeSummary.WarningPrefix"/>): printed by the commands and kept in <c>manifest.json</c>. A family
/// whose models store merged tensors in different floating-point dtypes gets a <c>dtypes</c> note (not a warning).
/// </summary>
internal static class StructuralRules
{
    /// <summary>The warnings of <paramref name="parameters"/> over <paramref name="family"/>, keyed for the merge's notes.</summary>
    public static Dictionary<string, string> Warnings(ModelFamily family, MergeParameters parameters, MergePlan plan)
    {
        var warnings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (family.TaskHeads.Values.All(h => h.Count == 0) && !family.Base.Tensors.Any(t => family.Heads.IsHead(t.Name)))
            warnings[MergeSummary.WarningPrefix + "heads"] =
                $"the head pattern '{family.Heads.Pattern}' matches no tensor of any model: every tensor is merged and no task keeps a head of its own.";
        else
            foreach (var glob in family.Heads.Globs)
                if (!family.Base.Tensors.Concat(family.Tasks.SelectMany(t => t.Reader.Tensors)).Any(t => Checkpoints.HeadFilter.GlobMatches(glob, t.Name)))
                    warnings[$"{MergeSummary.WarningPrefix}heads.{glob}"] = $"the head pattern '{glob}' (of '{family.Heads.Pattern}') matches no tensor of any model.";
        var names = family.MergedTensors.Select(t => t.Name).ToList();
        void Check(string scope, IReadOnlyDictionary<string, ParameterValue> values)
        {
            foreach (var (name, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                foreach (var filter in Filters(value))
                    if (!names.Any(n => n.Contains(filter, StringComparison.Ordinal)))
                        warnings[$"{MergeSummary.WarningPrefix}filter.{scope}{name}.{filter}"] =
                            $"parameter '{name}'{(scope.Length > 0 ? $" of model '{scope.TrimEnd('.')}'" : "")}: the filter '{filter}' is in no merged tensor's name, so its value is never used.";
                foreach (var (entry, shadowed) in Shadowed(value, names))
                    warnings[$"{MergeSummary.WarningPrefix}shadowed.{scope}{name}.{entry}"] =
                        $"parameter '{name}'{(scope.Length > 0 ? $" of model '{scope.TrimEnd('.')}'" : "")}: the entry {(shadowed is null ? "without a filter" : $"with filter '{shadowed}'")} (entry {entry + 1}) comes after entries that match every tensor it matches, so its value is never used (the first matching entry wins).";
                if (HasGradient(value) && plan.LayerCount == 0)
                    warnings[$"{MergeSummary.WarningPrefix}layers.{scope}{name}"] =
                        $"parameter '{name}'{(scope.Length > 0 ? $" of model '{scope.TrimEnd('.')}'" : "")}: a per-layer list, but no merged tensor's name has a layer index; every tensor takes the list's first (embeddings) or last value.";
            }
        }
        if (MixedDTypes(family) is { } mixed) warnings["dtypes"] = mixed;
        foreach (var (task, note) in family.PrefixNotes) warnings[$"prefix.{task}"] = note;
        foreach (var (key, message) in parameters.Method.DegenerateSettings(parameters, plan))
            warnings[$"{MergeSummary.WarningPrefix}degenerate.{key}"] = message;
        Check("", parameters.Effective());
        for (int t = 0; t < parameters.ModelCount && t < plan.TaskNames.Count; t++) Check(plan.TaskNames[t] + ".", parameters.PerModel(t));
        return warnings;
    }

    /// <summary>A note when the models store merged tensors in different floating-point dtypes (computed in float32,
    /// written in the output dtype: the recipe's <c>dtype</c>, else each tensor's dtype in the base), else null.</summary>
    private static string? MixedDTypes(ModelFamily family)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var b in family.MergedTensors)
        {
            seen.Add($"base {b.DType}");
            foreach (var t in family.Tasks)
                if (t.Reader.TryGetTensor(b.Name, out var ti) && ti.DType != b.DType) seen.Add($"{t.Name} {ti.DType}");
        }
        return seen.Count <= 1 ? null : $"merged tensors are stored as {string.Join(", ", seen)}: computed in float32, written in the output dtype (the recipe's dtype, else the base's).";
    }

    /// <summary>The <c>{filter, value}</c> entries of <paramref name="value"/> (index, filter) that match some merged tensor
    /// but are never the first entry to match one: an earlier entry takes every tensor they would.</summary>
    private static IEnumerable<(int Index, string? Filter)> Shadowed(ParameterValue value, IReadOnlyList<string> names)
    {
        if (value is not ParameterValue.Filtered f) yield break;
        var first = new HashSet<int>();
        foreach (var n in names)
            for (int j = 0; j < f.Entries.Count; j++)
                if (ParameterValue.Matches(f.Entries[j].Filter, n)) { first.Add(j); break; }
        for (int j = 0; j < f.Entries.Count; j++)
            if (!first.Contains(j) && names.Any(n => ParameterValue.Matches(f.Entries[j].Filter, n))) yield return (j, f.Entries[j].Filter);
    }

    private static IEnumerable<string> Filters(ParameterValue value) => value is ParameterValue.Filtered f
        ? f.Entries.Where(e => e.Filter is not (null or "*")).Select(e => e.Filter!).Concat(f.Entries.SelectMany(e => Filters(e.Value)))
        : [];

    private static bool HasGradient(ParameterValue value) => value switch
    {
        ParameterValue.Gradient g => g.Values.Count > 1,
        ParameterValue.Filtered f => f.Entries.Any(e => HasGradient(e.Value)),
        _ => false,
    };
}
