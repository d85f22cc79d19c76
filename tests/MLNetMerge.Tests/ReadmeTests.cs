using MLNetMerge.Alignment;
namespace MLNetMerge.Tests;

/// <summary>The README's method tables are the registries' (<see cref="MLNetMerge.Cli.Commands.MethodTable"/>): adding a method or a stage, or
/// changing a default, fails this test until the README is regenerated with <c>mlnetmerge methods --markdown</c>.</summary>
[TestClass]
public sealed class ReadmeTests
{
    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && File.Exists(Path.Combine(dir.FullName, "MLNetMerge.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "README.md")).Replace("\r\n", "\n");
        throw new FileNotFoundException("README.md beside MLNetMerge.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Between(string text, string name)
    {
        string begin = $"<!-- {name}:begin -->\n", end = $"<!-- {name}:end -->";
        int i = text.IndexOf(begin, StringComparison.Ordinal), j = text.IndexOf(end, StringComparison.Ordinal);
        Assert.IsTrue(i >= 0 && j > i, $"README.md lacks the {begin.Trim()} … {end} block");
        return text[(i + begin.Length)..j];
    }

    [TestMethod]
    public void Merge_method_table_matches_the_registry()
    {
        string table = Between(Readme(), "merge-methods");
        Assert.AreEqual(MLNetMerge.Cli.Commands.MethodTable.MergeMethodsMarkdown(), table, "regenerate the README table with `mlnetmerge methods --markdown`");
        foreach (var m in Merging.MergeMethods.All) StringAssert.Contains(table, $"| `{m.Name}` |");
    }

    [TestMethod]
    public void Alignment_stage_table_matches_the_registry()
    {
        string table = Between(Readme(), "alignment-methods");
        Assert.AreEqual(MLNetMerge.Cli.Commands.MethodTable.AlignmentMethodsMarkdown(), table, "regenerate the README table with `mlnetmerge methods --markdown`");
        foreach (var m in AlignmentMethods.All) StringAssert.Contains(table, $"| `{m.Name}` |");
    }

    [TestMethod]
    public void Set_up_commands_are_the_two_the_ci_runs()
    {
        string readme = Readme();
        StringAssert.Contains(readme, "dotnet run --project src/MLNetMerge.Cli -c Release -- demo");
        StringAssert.Contains(readme, "bash tools/test.sh");
    }
}
