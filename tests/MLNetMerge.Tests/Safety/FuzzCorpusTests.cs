using MLNetMerge.Fuzz;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// The fuzz campaign's regression suite (tools/fuzz): every committed corpus input (the minimised afl-fuzz queue, each
/// reaching different code) and every crasher it found is replayed through the harness's own targets
/// (<see cref="FuzzTargets"/>) and must either read or fail with a typed <see cref="MergeException"/> — never another
/// exception.
/// </summary>
[TestClass]
public sealed class FuzzCorpusTests
{
    private static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fuzz");

    public static IEnumerable<object[]> Targets => FuzzTargets.Extensions.Keys.Select(t => new object[] { t });

    [TestMethod]
    [DynamicData(nameof(Targets))]
    public void CorpusAndCrashers_ReadOrFailWithATypedError(string target)
    {
        var files = new[] { Path.Combine(Root, target), Path.Combine(Root, "crashes", target) }
            .Where(Directory.Exists).SelectMany(Directory.GetFiles).Order(StringComparer.Ordinal).ToList();
        Assert.IsNotEmpty(files, $"no committed corpus for '{target}' under {Root} (bash tools/fuzz/run.sh {target})");
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-fuzz-replay-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "input" + FuzzTargets.Extensions[target]);
        var failures = new List<string>();
        int read = 0, refused = 0;
        try
        {
            foreach (var file in files)
            {
                try { FuzzTargets.Run(target, File.ReadAllBytes(file), path); read++; }
                catch (MergeException) { refused++; }
                catch (Exception e) { failures.Add($"{Path.GetRelativePath(Root, file)}: {e.GetType().Name}: {e.Message}"); }
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        Assert.IsEmpty(failures, $"{failures.Count} of {files.Count} inputs threw an untyped exception:\n" + string.Join("\n", failures));
        Assert.AreEqual(files.Count, read + refused);
    }

    /// <summary>The recipe crashers reduced by hand: a list or mapping as a section's key was cast to a scalar
    /// (InvalidCastException); now a one-line <see cref="RecipeException"/> naming the section.</summary>
    [TestMethod]
    [DataRow("sweep: { [scale]: [1.0] }", "sweep: a key must be a single word")]
    [DataRow("evaluate: { [zoo]: z }", "evaluate: a key must be a single word")]
    [DataRow("align: { { method: x }: 1 }", "align: a key must be a single word")]
    public void SectionKeyThatIsNotAWord_IsARecipeError(string section, string expected)
    {
        string yaml = "method: ties\nbase: b.safetensors\nmodels:\n  - { name: t, path: t.safetensors }\n" + section + "\n";
        var recipe = MergeRecipe.Parse(yaml, "r.yaml", Path.GetTempPath());
        var e = Assert.ThrowsExactly<RecipeException>(() =>
        {
            _ = SweepSection.Read(recipe);
            _ = EvaluateSection.Read(recipe);
            _ = AlignSection.Read(recipe);
        });
        StringAssert.Contains(e.Message, expected);
    }
}
