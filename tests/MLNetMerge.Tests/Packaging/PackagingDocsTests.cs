using System.CommandLine;

namespace MLNetMerge.Tests.Packaging;

/// <summary>What the package tests rely on, checked without packing: the README's quick start is the program
/// examples/QuickStart builds, the package page's snippet is taken from it, the changelog has the version's section,
/// and the CLI's help names the tool's command.</summary>
[TestClass]
public sealed class PackagingDocsTests
{
    [TestMethod]
    public void Readme_quick_start_is_the_QuickStart_example()
    {
        Assert.AreEqual(RepoFiles.Read("examples/QuickStart/Program.cs"), RepoFiles.ReadmeQuickStart(),
            "README.md's quick-start block and examples/QuickStart/Program.cs differ: change both");
    }

    [TestMethod]
    public void Package_page_snippet_lines_come_from_the_quick_start()
    {
        string page = RepoFiles.Read("src/MLNetMerge/PACKAGE.md");
        int i = page.IndexOf("```csharp\n", StringComparison.Ordinal);
        Assert.IsTrue(i >= 0, "src/MLNetMerge/PACKAGE.md has no C# block");
        int j = page.IndexOf("```", i + 10, StringComparison.Ordinal);
        var quickStart = RepoFiles.ReadmeQuickStart().Split('\n').Select(l => l.Trim()).ToHashSet();
        var lines = page[(i + 10)..j].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 1).ToList();
        Assert.IsTrue(lines.Count >= 8, string.Join('\n', lines));
        foreach (string line in lines) Assert.IsTrue(quickStart.Contains(line), $"PACKAGE.md line not in the README quick start: {line}");
    }

    [TestMethod]
    public void Changelog_has_a_section_for_the_packed_version()
    {
        string changelog = RepoFiles.Read("CHANGELOG.md");
        StringAssert.Contains(changelog, "## [Unreleased]");
        StringAssert.Matches(changelog, new System.Text.RegularExpressions.Regex(
            @"\n## \[" + System.Text.RegularExpressions.Regex.Escape(RepoFiles.Version()) + @"\] - \d{4}-\d{2}-\d{2}\n"));
    }

    [TestMethod]
    public void Cli_help_names_the_mlnetmerge_command_not_the_assembly()
    {
        var output = new StringWriter();
        int code = MLNetMerge.Cli.Program.BuildRoot().Parse(["methods", "--help"]).Invoke(new InvocationConfiguration { Output = output });
        Assert.AreEqual(0, code);
        StringAssert.Contains(output.ToString(), "mlnetmerge methods [options]");
        Assert.IsFalse(output.ToString().Contains("MLNetMerge.Cli", StringComparison.Ordinal), output.ToString());
    }
}
