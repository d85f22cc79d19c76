using System.Diagnostics;
using MLNetMerge.Checkpoints;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// Issue 15, data loss: an overwrite replaces only a folder a previous MLNetMerge run wrote (its manifest's format) and
/// never one holding the run's inputs; temporary folders of killed runs are recognised by name and marker and removed by
/// the next run to the same output, while a folder that only looks like one, or one of a live process, is left alone.
/// </summary>
[TestClass]
public sealed class OutputGuardTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnm-guard-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string Folder(string name, params (string File, string Text)[] files)
    {
        string dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        foreach (var (f, t) in files) File.WriteAllText(Path.Combine(dir, f), t);
        return dir;
    }

    private static void WriteOutput(AtomicDirectory dir, string text)
    {
        File.WriteAllText(dir.PathOf("model.txt"), text);
        File.WriteAllText(dir.PathOf("manifest.json"), $"{{\"format\": \"{OutputFormat.FormatName}\", \"version\": 3}}");
        dir.Commit();
    }

    [TestMethod]
    public void Overwrite_ReplacesAPreviousOutput()
    {
        string target = Path.Combine(_dir, "out");
        using (var first = AtomicDirectory.Begin(target, overwrite: false)) WriteOutput(first, "one");
        using (var second = AtomicDirectory.Begin(target, overwrite: true)) WriteOutput(second, "two");
        Assert.AreEqual("two", File.ReadAllText(Path.Combine(target, "model.txt")));
        Assert.IsFalse(File.Exists(Path.Combine(target, TempFolders.MarkerName)), "the marker never reaches the output");
        CollectionAssert.AreEquivalent(new[] { "out" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void Overwrite_RefusesAFolderWithoutAnMLNetMergeManifest_AndLeavesItIntact()
    {
        string foreign = Folder("photos", ("a.jpg", "A"), ("b.jpg", "B"));
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(foreign, overwrite: true));
        StringAssert.Contains(e.Message, foreign);
        StringAssert.Contains(e.Message, "no manifest.json");
        StringAssert.Contains(e.Message, "2 entries: a.jpg, b.jpg");
        Assert.AreEqual("A", File.ReadAllText(Path.Combine(foreign, "a.jpg")));
        Assert.AreEqual(1, Directory.GetFileSystemEntries(_dir).Length, "no temporary folder was made");

        string other = Folder("other", ("manifest.json", "{\"format\": \"someone.else\"}"));
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(other, overwrite: true));
        StringAssert.Contains(e.Message, "format 'someone.else'");
        string broken = Folder("broken", ("manifest.json", "{ not json"));
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(broken, overwrite: true));
        StringAssert.Contains(e.Message, "not an MLNetMerge manifest");
    }

    [TestMethod]
    public void Overwrite_RefusesAFile_AndAcceptsAnEmptyFolder()
    {
        string file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "keep me");
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(file, overwrite: true));
        StringAssert.Contains(e.Message, "is a file");
        Assert.AreEqual("keep me", File.ReadAllText(file));
        string empty = Folder("empty");
        using (var dir = AtomicDirectory.Begin(empty, overwrite: true)) WriteOutput(dir, "x");
        Assert.AreEqual("x", File.ReadAllText(Path.Combine(empty, "model.txt")));
    }

    [TestMethod]
    public void AnOutputHoldingAnInput_IsRefused_EvenWhenItIsAPreviousOutput()
    {
        string previous = Path.Combine(_dir, "merged");
        using (var first = AtomicDirectory.Begin(previous, overwrite: false)) WriteOutput(first, "one");
        string input = Path.Combine(previous, "model.txt");
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(previous, true, [input], null));
        StringAssert.Contains(e.Message, "holds 'model.txt'");
        StringAssert.Contains(e.Message, "input of this run");
        // The output being the input itself, and a folder above the input.
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(previous, true, [previous], null));
        StringAssert.Contains(e.Message, "is an input");
        e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => AtomicDirectory.Begin(_dir, true, [input], null));
        StringAssert.Contains(e.Message, "merged/model.txt");
        Assert.AreEqual("one", File.ReadAllText(input));
        // A sibling whose name starts like the output's is not under it.
        Assert.IsFalse(OutputGuard.IsAtOrUnder(previous + "2/x", previous));
        Assert.IsTrue(OutputGuard.IsAtOrUnder(previous + "/x", previous));
    }

    [TestMethod]
    public void StaleTemporaryFolderOfADeadProcess_IsRemovedByTheNextRun()
    {
        string target = Path.Combine(_dir, "out");
        int dead = DeadProcessId();
        string stale = Path.Combine(_dir, $".out.tmp-{dead}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), new string('x', 1000));
        File.WriteAllText(Path.Combine(stale, TempFolders.MarkerName), $"mlnetmerge-temp {Path.GetFileName(stale).Split('-')[^1]} {dead} 638000000000000000\n");
        var lines = new List<string>();
        using (var dir = AtomicDirectory.Begin(target, false, [], lines.Add)) WriteOutput(dir, "new");
        Assert.IsFalse(Directory.Exists(stale));
        Assert.AreEqual(1, lines.Count, string.Join("\n", lines));
        StringAssert.StartsWith(lines[0], "note: removed " + stale);
        StringAssert.Contains(lines[0], $"process {dead} is gone");
    }

    [TestMethod]
    public void FoldersThatOnlyLookTemporary_OrBelongToALiveProcess_AreLeftAloneAndNamed()
    {
        string target = Path.Combine(_dir, "out");
        // Named like a temporary folder, but without the marker: someone else's.
        string lookalike = Folder($".out.tmp-{DeadProcessId()}-{Guid.NewGuid():N}", ("data.csv", "1,2"));
        // A live process (this one's parent chain is alive; use the test host itself with its real start time).
        using var self = Process.GetCurrentProcess();
        int pid = Environment.ProcessId;
        string live = Folder($".out.tmp-{pid}-{Guid.NewGuid():N}");
        long ticks = self.StartTime.ToUniversalTime().Ticks;
        File.WriteAllText(Path.Combine(live, TempFolders.MarkerName), $"mlnetmerge-temp {Path.GetFileName(live).Split('-')[^1]} {pid} {ticks}\n");
        // A marker whose GUID does not match the folder's name.
        string mismatched = Folder($".out.tmp-{DeadProcessId()}-{Guid.NewGuid():N}");
        File.WriteAllText(Path.Combine(mismatched, TempFolders.MarkerName), $"mlnetmerge-temp {Guid.NewGuid():N} 1 0\n");
        var lines = new List<string>();
        using (var dir = AtomicDirectory.Begin(target, false, [], lines.Add)) WriteOutput(dir, "new");
        Assert.IsTrue(Directory.Exists(lookalike) && Directory.Exists(live) && Directory.Exists(mismatched));
        Assert.AreEqual("1,2", File.ReadAllText(Path.Combine(lookalike, "data.csv")));
        Assert.AreEqual(3, lines.Count, string.Join("\n", lines));
        Assert.IsTrue(lines.All(l => l.StartsWith("warning: left alone ", StringComparison.Ordinal)), string.Join("\n", lines));
        Assert.IsTrue(lines.Any(l => l.Contains(live, StringComparison.Ordinal) && l.Contains($"process {pid} is still writing", StringComparison.Ordinal)));
        Assert.IsTrue(lines.Any(l => l.Contains(lookalike, StringComparison.Ordinal) && l.Contains("without its marker", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void UncommittedFolders_AreRemovedOnRequest_AndNoNewOnesAfterStopping()
    {
        // What the CLI's signal handler does when a run does not unwind in time. (Stopping is process-wide and one-way,
        // so this test checks the removal only; the refusal after StopWriting is checked in a child process by the CLI tests.)
        string target = Path.Combine(_dir, "out");
        var dir = AtomicDirectory.Begin(target, false);
        File.WriteAllText(dir.PathOf("model.safetensors"), "partial");
        Assert.IsTrue(Directory.Exists(dir.TempPath));
        var removed = TempFolders.RemoveUncommitted();
        CollectionAssert.Contains(removed.ToList(), dir.TempPath);
        Assert.IsFalse(Directory.Exists(dir.TempPath));
        dir.Dispose();
        Assert.AreEqual(0, Directory.GetFileSystemEntries(_dir).Length);
    }

    [TestMethod]
    public void ReplaceableFormats_NameTheFormatsMLNetMergeWrites()
    {
        CollectionAssert.Contains(OutputGuard.ReplaceableFormats.ToList(), OutputFormat.FormatName);
        CollectionAssert.Contains(OutputGuard.ReplaceableFormats.ToList(), "mlnetmerge.onnx-export");
    }

    [TestMethod]
    public void ReportPath_AFolderMeansReportJsonInside_AndAForeignReportIsRefused()
    {
        var recipe = MergeRecipe.Parse("method: weight_average\nbase: b.safetensors\nmodels:\n  - { name: t, path: t.safetensors }\n", Path.Combine(_dir, "r.yaml"), _dir);
        string folder = Folder("reports");
        Assert.AreEqual(Path.Combine(folder, "report.json"), RecipeInputs.ReportPath(recipe, folder, null));
        Assert.AreEqual(Path.GetFullPath(Path.Combine("out", "run", "r", "report.json")), RecipeInputs.ReportPath(recipe, null, null));
        Assert.AreEqual(Path.Combine(_dir, "x", "report.json"), RecipeInputs.ReportPath(recipe, null, Path.Combine(_dir, "x")));
        // A path that names no .json file is a folder, not a file holding the JSON with report.html beside it in the parent.
        Assert.AreEqual(Path.Combine(_dir, "cli_ties", "report.json"), RecipeInputs.ReportPath(recipe, Path.Combine(_dir, "cli_ties"), null));
        Assert.AreEqual(Path.Combine(_dir, "mine.JSON"), RecipeInputs.ReportPath(recipe, Path.Combine(_dir, "mine.JSON"), null));
        string foreign = Path.Combine(folder, "report.json");
        File.WriteAllText(foreign, "{\"format\": \"other\"}");
        var e = Assert.ThrowsExactly<UnsafeOverwriteException>(() => RecipeInputs.CheckReport(foreign));
        StringAssert.Contains(e.Message, "format 'other'");
        File.WriteAllText(foreign, $"{{\"format\": \"{RunReport.FormatName}\"}}");
        RecipeInputs.CheckReport(foreign);
    }

    [TestMethod]
    public void LibrarySave_WithOverwrite_RefusesAForeignFolder()
    {
        var family = new TinyFamily("t1", "t2").WithTaskVectors("layers.0.w", [2], [1f, 2f], [1f, 0f], [0f, 1f]);
        var merged = Merges.Run(family, "task_arithmetic");
        string foreign = Folder("data", ("keep.csv", "1"));
        Assert.ThrowsExactly<UnsafeOverwriteException>(() => EngineRuns.Save(merged, [], 0, foreign, overwrite: true));
        Assert.AreEqual("1", File.ReadAllText(Path.Combine(foreign, "keep.csv")));
        string mine = Path.Combine(_dir, "mine");
        EngineRuns.Save(merged, [], 0, mine);
        EngineRuns.Save(merged, [], 0, mine, overwrite: true);
        Assert.IsTrue(File.Exists(Path.Combine(mine, "model.safetensors")));
    }

    /// <summary>The id of a process that has exited (a short child, waited for).</summary>
    private static int DeadProcessId()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }
}
