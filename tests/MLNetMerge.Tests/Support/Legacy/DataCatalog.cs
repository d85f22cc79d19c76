using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>
/// Task data (ML.NET's DataOperationsCatalog): load a zoo's task splits as <see cref="TaskDataset"/>s, draw seeded
/// few-shot samples, take the first examples and drop labels (what a transductive stage may see).
/// </summary>
internal sealed class DataCatalog
{
    private readonly MergeContext _ctx;

    internal DataCatalog(MergeContext ctx) => _ctx = ctx;

    /// <summary>The task names of the zoo in <paramref name="zoo"/> (a folder with <c>manifest.json</c>), in manifest order.</summary>
    /// <exception cref="CheckpointFormatException">The manifest is missing or malformed.</exception>
    public IReadOnlyList<string> ZooTasks(string zoo) => ZooManifest.Load(zoo).Tasks.Select(t => t.Name).ToList();

    /// <summary>One split (<c>validation</c> or <c>test</c>) of one task of a zoo, labeled, pixels normalised.</summary>
    /// <param name="zoo">Zoo folder.</param>
    /// <param name="task">Task name.</param>
    /// <param name="split"><c>validation</c> or <c>test</c>.</param>
    /// <exception cref="ArgumentException">Unknown task or split.</exception>
    public TaskDataset LoadZooSplit(string zoo, string task, string split = "test")
    {
        ArgumentNullException.ThrowIfNull(zoo);
        var manifest = ZooManifest.Load(zoo);
        var t = manifest.Tasks.FirstOrDefault(x => x.Name == task)
            ?? throw new ArgumentException($"zoo {zoo} has no task '{task}' (tasks: {string.Join(", ", manifest.Tasks.Select(x => x.Name))}).", nameof(task));
        return ZooManifest.LoadSplit(zoo, t, Files(t, split));
    }

    /// <summary>The same split of several tasks of a zoo (all of them when <paramref name="tasks"/> is null), keyed by task name.</summary>
    /// <param name="zoo">Zoo folder.</param>
    /// <param name="split"><c>validation</c> or <c>test</c>.</param>
    /// <param name="tasks">Task names; null for every task of the zoo.</param>
    /// <param name="cancellationToken">Checked between tasks.</param>
    /// <exception cref="ArgumentException">Unknown task or split.</exception>
    public IReadOnlyDictionary<string, TaskDataset> LoadZoo(string zoo, string split = "test", IEnumerable<string>? tasks = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(zoo);
        var manifest = ZooManifest.Load(zoo);
        var names = tasks?.ToList() ?? manifest.Tasks.Select(t => t.Name).ToList();
        var result = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var t = manifest.Tasks.FirstOrDefault(x => x.Name == name)
                ?? throw new ArgumentException($"zoo {zoo} has no task '{name}' (tasks: {string.Join(", ", manifest.Tasks.Select(x => x.Name))}).", nameof(tasks));
            result[name] = ZooManifest.LoadSplit(zoo, t, Files(t, split));
        }
        return result;
    }

    /// <summary><paramref name="shotsPerClass"/> examples of every class, drawn with the context's seed (or <paramref name="seed"/>).</summary>
    /// <exception cref="ArgumentException">A class has fewer examples than asked for.</exception>
    /// <exception cref="InvalidOperationException">The data is unlabeled (class-balanced sampling needs labels).</exception>
    public TaskDataset FewShot(TaskDataset data, int shotsPerClass, int? seed = null) =>
        FewShotSampler.Sample(data, shotsPerClass, seed ?? (int)_ctx.Seed);

    /// <summary>A few-shot sample of every task (same shots and seed for each).</summary>
    public IReadOnlyDictionary<string, TaskDataset> FewShot(IReadOnlyDictionary<string, TaskDataset> data, int shotsPerClass, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.ToDictionary(kv => kv.Key, kv => FewShot(kv.Value, shotsPerClass, seed), StringComparer.Ordinal);
    }

    /// <summary>The first <paramref name="count"/> examples (all of them when there are fewer).</summary>
    public TaskDataset Take(TaskDataset data, int count)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return count >= data.Count ? data : data.Subset(Enumerable.Range(0, count).ToArray());
    }

    /// <summary>The same examples without labels (what a transductive method may see).</summary>
    public TaskDataset DropLabels(TaskDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithoutLabels();
    }

    /// <summary>Every task's examples without labels.</summary>
    public IReadOnlyDictionary<string, TaskDataset> DropLabels(IReadOnlyDictionary<string, TaskDataset> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.ToDictionary(kv => kv.Key, kv => kv.Value.WithoutLabels(), StringComparer.Ordinal);
    }

    private static ZooSplitFiles Files(ZooTask task, string split) => split switch
    {
        "test" => task.Test,
        "validation" => task.Validation,
        _ => throw new ArgumentException($"split '{split}' of task '{task.Name}': expected validation or test (the zoo does not store training data).", nameof(split)),
    };
}
