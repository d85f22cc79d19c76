namespace MLNetMerge.Tests;

/// <summary>Finds the committed zoo by walking up from the test binaries to the repository root.</summary>
internal static class ZooPaths
{
    public static string Vision => Find("vision");

    public static string Text => Find("text");

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
