using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// The checks every alignment stage makes before fitting, with typed errors: the data's tasks are exactly the merged
/// model's tasks (none missing, none extra), every dataset is non-empty and its examples fit the encoder, and the
/// family has a fine-tuned model of each name.
/// </summary>
internal static class AlignmentInputs
{
    /// <summary>Checks <paramref name="inputs"/> against <paramref name="merged"/> and returns the per-task data in the merged model's task order.</summary>
    /// <param name="stage">Stage name (for messages).</param>
    /// <param name="merged">The merged model.</param>
    /// <param name="inputs">The family and data.</param>
    /// <param name="encoder">The encoder (input size).</param>
    /// <exception cref="AlignmentDataException">No data, missing or extra tasks, empty datasets, or examples of the wrong size.</exception>
    public static IReadOnlyList<(string Task, TaskDataset Data)> Check(string stage, MergedModel merged, MergeInputs inputs, Encoders.EncoderSession encoder)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(encoder);
        var data = inputs.Data ?? throw new AlignmentDataException(null, $"stage '{stage}' needs per-task data; MergeInputs.Data is null.");
        foreach (var name in data.Keys)
            if (!merged.TaskNames.Contains(name))
                throw new AlignmentDataException(name, $"stage '{stage}' was given data for '{name}', which is not a task of the merged model ({string.Join(", ", merged.TaskNames)}).");
        var familyTasks = inputs.Family.TaskNames;
        var result = new List<(string, TaskDataset)>();
        foreach (var task in merged.TaskNames)
        {
            if (!data.TryGetValue(task, out var d))
                throw new AlignmentDataException(task, data.Count == 0
                    ? $"stage '{stage}' has no data for this task of the merged model (the data holds no rows)."
                    : $"stage '{stage}' has no data for this task of the merged model (data given for: {string.Join(", ", data.Keys)}).");
            if (!familyTasks.Contains(task))
                throw new AlignmentDataException(task, $"the family has no fine-tuned model of this name (family tasks: {string.Join(", ", familyTasks)}).");
            if (d.Count == 0) throw new AlignmentDataException(task, $"stage '{stage}' was given an empty dataset.");
            if (d.FeatureLength != encoder.InputSize)
                throw new AlignmentDataException(task, $"examples have {d.FeatureLength} values; the {encoder.Model.ArchitectureName} encoder expects {encoder.InputSize}.");
            result.Add((task, d));
        }
        return result;
    }

    /// <summary>
    /// The few-shot sample a stage trains on: <paramref name="shotsPerClass"/> examples of each class drawn by
    /// <see cref="FewShotSampler"/> when labels are present (they only balance the draw), else <c>k·K</c> examples drawn
    /// uniformly; never more than the dataset holds (a class with fewer examples gives all it has).
    /// <paramref name="shotsPerClass"/> 0 keeps every example.
    /// </summary>
    public static int[] FewShotIndices(TaskDataset data, int shotsPerClass, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shotsPerClass <= 0) return Enumerable.Range(0, data.Count).ToArray();
        if (data.Labels is null)
        {
            var all = Enumerable.Range(0, data.Count).ToArray();
            RandomStreams.Create(seed, "few_shot.unlabeled").Shuffle(all.AsSpan());
            return all[..Math.Min(all.Length, shotsPerClass * data.ClassCount)];
        }
        var counts = data.ClassCounts();
        if (counts.All(c => c >= shotsPerClass)) return FewShotSampler.Sample(data.Labels, data.ClassCount, shotsPerClass, seed);
        var byClass = FewShotSampler.IndicesByClass(data.Labels, data.ClassCount);
        var picked = new List<int>();
        for (int c = 0; c < byClass.Length; c++)
        {
            var arr = byClass[c].ToArray();
            RandomStreams.Create(seed, "few_shot.short_class", c).Shuffle(arr.AsSpan());
            picked.AddRange(arr.Take(shotsPerClass));
        }
        return picked.ToArray();
    }
}
