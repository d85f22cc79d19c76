using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Evaluation;

namespace MLNetMerge.Recipes;

/// <summary>
/// The tasks a recipe is evaluated and aligned on: for each fine-tuned model of the family, its head and the labeled
/// validation and test splits of the zoo task of the same name.
/// </summary>
/// <param name="ZooDirectory">The zoo folder (absolute).</param>
/// <param name="Manifest">The zoo's manifest.</param>
/// <param name="Tasks">The tasks, in the family's order.</param>
internal sealed record TaskSuite(string ZooDirectory, ZooManifest Manifest, IReadOnlyList<EvaluationTask> Tasks)
{
    /// <summary>Loads the splits of every family task from <paramref name="zooDirectory"/>.</summary>
    /// <exception cref="RecipeException">No zoo there, or a model without a zoo task of its name.</exception>
    /// <exception cref="CheckpointFormatException">A head whose class count differs from the zoo task's.</exception>
    public static TaskSuite Load(string zooDirectory, ModelFamily family, string? recipe)
    {
        string dir = Path.GetFullPath(zooDirectory);
        var manifest = ReadManifest(dir, recipe);
        var tasks = new List<EvaluationTask>();
        foreach (var t in family.Tasks)
        {
            var zt = Find(manifest, dir, t.Name, recipe);
            var head = family.Head(t.Name);
            if (head.ClassCount != zt.Classes.Count)
                throw new CheckpointFormatException(t.Reader.Path, TaskHead.WeightName, $"has {head.ClassCount} classes; task '{t.Name}' of the zoo {dir} has {zt.Classes.Count}.");
            var validation = ZooManifest.LoadSplit(dir, zt, zt.Validation);
            var test = ZooManifest.LoadSplit(dir, zt, zt.Test);
            // Before anything runs or is written: examples the encoder cannot read fail here, not after the merge.
            foreach (var (split, data, files) in new[] { ("validation", validation, zt.Validation), ("test", test, zt.Test) })
                if (family.HasArchitecture && data.FeatureLength != family.Session.InputSize)
                    throw new CheckpointFormatException(Path.Combine(dir, files.Images ?? files.Tokens ?? files.Labels), null,
                        $"task '{t.Name}''s {split} examples have {data.FeatureLength} values each (shape [{string.Join(", ", data.FeatureShape)}]); the family's {family.Session.Model.ArchitectureName} encoder reads {family.Session.InputSize}.");
            tasks.Add(new EvaluationTask(t.Name, head, validation, test));
        }
        return new TaskSuite(dir, manifest, tasks);
    }

    /// <summary>The test and validation splits of <paramref name="task"/> in another zoo (<c>align.data.zoo</c>).</summary>
    /// <exception cref="RecipeException">No zoo there, or no task of that name.</exception>
    public static (TaskDataset Test, TaskDataset Validation) Splits(string zooDirectory, string task, string? recipe)
    {
        string dir = Path.GetFullPath(zooDirectory);
        var zt = Find(ReadManifest(dir, recipe), dir, task, recipe);
        return (ZooManifest.LoadSplit(dir, zt, zt.Test), ZooManifest.LoadSplit(dir, zt, zt.Validation));
    }

    private static ZooManifest ReadManifest(string dir, string? recipe)
    {
        if (!File.Exists(Path.Combine(dir, ZooManifest.FileName)))
            throw new RecipeException(recipe, $"no zoo at {dir} (no {ZooManifest.FileName}); evaluation and alignment read their task data from a zoo: set evaluate.zoo or align.data.zoo.");
        return ZooManifest.Load(dir);
    }

    private static ZooTask Find(ZooManifest manifest, string dir, string task, string? recipe) =>
        manifest.Tasks.FirstOrDefault(z => z.Name == task)
        ?? throw new RecipeException(recipe, $"model '{task}' has no task of that name in {Path.Combine(dir, ZooManifest.FileName)} (tasks: {string.Join(", ", manifest.Tasks.Select(z => z.Name))}).");
}
