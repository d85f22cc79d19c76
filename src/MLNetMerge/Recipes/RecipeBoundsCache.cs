using System.Globalization;
using MLNetMerge.Evaluation;

namespace MLNetMerge.Recipes;

/// <summary>
/// The bounds rows (base encoder + each task's head; each fine-tuned model on its own task) of recipes already
/// evaluated, keyed by everything they depend on: the zoo folder, the base and fine-tuned checkpoints (full path, size,
/// last write time) with their task names in order, the heads pattern, and the <c>evaluate:</c> section's protocols,
/// shots, seeds and FT-Classifier shots. The merge method and its parameters are not part of the key: the bounds do
/// not depend on them. A demo that evaluates every recipe of a zoo passes one cache and computes the bounds once per
/// family instead of once per recipe. Not thread-safe.
/// </summary>
internal sealed class RecipeBoundsCache
{
    private readonly Dictionary<string, (ModelEvaluation Base, ModelEvaluation Individual)> _rows = new(StringComparer.Ordinal);

    /// <summary>Number of cached bounds.</summary>
    public int Count => _rows.Count;

    /// <summary>The key of a recipe's bounds.</summary>
    public static string Key(MergeRecipe recipe, EvaluateSection section, string zooDirectory)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(section);
        static string File(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? string.Create(CultureInfo.InvariantCulture, $"{info.FullName}:{info.Length}:{info.LastWriteTimeUtc.Ticks}") : Path.GetFullPath(path);
        }
        return string.Join("|",
            Path.GetFullPath(zooDirectory),
            File(recipe.Base),
            string.Join(";", recipe.Models.Select(m => m.Name + "=" + File(m.Path))),
            recipe.Heads,
            recipe.Seed.ToString(CultureInfo.InvariantCulture),
            string.Join(";", section.Protocols),
            section.Shots.ToString(CultureInfo.InvariantCulture),
            section.Seeds.ToString(CultureInfo.InvariantCulture),
            string.Join(";", section.FtcShots.Select(k => k.ToString(CultureInfo.InvariantCulture))));
    }

    /// <summary>The cached bounds for <paramref name="key"/>, if any.</summary>
    public bool TryGet(string key, out ModelEvaluation baseRow, out ModelEvaluation individual)
    {
        bool found = _rows.TryGetValue(key, out var rows);
        (baseRow, individual) = rows;
        return found;
    }

    /// <summary>Stores the bounds for <paramref name="key"/>.</summary>
    public void Add(string key, ModelEvaluation baseRow, ModelEvaluation individual)
    {
        ArgumentNullException.ThrowIfNull(baseRow);
        ArgumentNullException.ThrowIfNull(individual);
        _rows[key] = (baseRow, individual);
    }
}
