namespace MLNetMerge.Tests.Packaging;

/// <summary>The repository's files as the packaging tests read them: the root (where MLNetMerge.sln is), the build
/// configuration of the test binaries, and the README's quick start between its markers.</summary>
internal static class RepoFiles
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MLNetMerge.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("MLNetMerge.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Read(string relativePath) =>
        File.ReadAllText(Path.Combine(Root, relativePath)).Replace("\r\n", "\n");

    /// <summary>The C# of the README's quick start: the fenced block between <c>&lt;!-- quick-start:begin --&gt;</c>
    /// and <c>&lt;!-- quick-start:end --&gt;</c>.</summary>
    public static string ReadmeQuickStart()
    {
        string readme = Read("README.md");
        const string begin = "<!-- quick-start:begin -->\n```csharp\n", end = "```\n<!-- quick-start:end -->";
        int i = readme.IndexOf(begin, StringComparison.Ordinal), j = readme.IndexOf(end, StringComparison.Ordinal);
        Assert.IsTrue(i >= 0 && j > i, "README.md lacks the quick-start block (<!-- quick-start:begin --> ```csharp … ``` <!-- quick-start:end -->)");
        return readme[(i + begin.Length)..j];
    }

    /// <summary>The version every package carries: VersionPrefix of src/Directory.Build.props.</summary>
    public static string Version()
    {
        var doc = System.Xml.Linq.XDocument.Load(Path.Combine(Root, "src", "Directory.Build.props"));
        var prefix = doc.Descendants("VersionPrefix").Single().Value.Trim();
        Assert.IsTrue(System.Text.RegularExpressions.Regex.IsMatch(prefix, @"^\d+\.\d+\.\d+$"), $"VersionPrefix '{prefix}' is not MAJOR.MINOR.PATCH");
        return prefix;
    }
}
