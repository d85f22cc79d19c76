namespace MLNetMerge.Tests;

/// <summary>Finds the committed zoo by walking up from the test binaries to the repository root.</summary>
internal static class ZooPaths
{
    public static string Vision => Find("vision");

    public static string Text => Find("text");

    /// <summary>The first <paramref name="n"/> examples (all, when fewer) of a vision zoo task's stored test split, with labels.</summary>
    public static MLNetMerge.Data.TaskDataset VisionTest(string task, int n)
    {
        var manifest = MLNetMerge.Data.ZooManifest.Load(Vision);
        var entry = manifest.Tasks.First(t => t.Name == task);
        var split = MLNetMerge.Data.ZooManifest.LoadSplit(Vision, entry, entry.Test);
        return split.Subset([.. Enumerable.Range(0, Math.Min(n, split.Count))]);
    }

    private static string Find(string family)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "data", "zoo", family);
            if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
        }
        throw new DirectoryNotFoundException($"data/zoo/{family}/manifest.json not found above " + AppContext.BaseDirectory);
    }
}
