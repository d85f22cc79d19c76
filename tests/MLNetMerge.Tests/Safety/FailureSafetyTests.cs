using System.Diagnostics;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using static MLNetMerge.Tests.Safety.CliProcess;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// The failure trial of the built CLI (twenty-seventh sitting): the report page has a temporary file of its own (a user's
/// <c>report.html.tmp</c> was overwritten, through a link too), an input reached through a symbolic link into the output is
/// still an input, an output that cannot be created (a file in the way, a folder that takes no entry) is refused before the
/// work, <c>--force</c> never deletes a file a user added to an earlier output, and a single file discarded on a full disk
/// leaves no temporary behind.
/// </summary>
[TestClass]
public sealed class FailureSafetyTests
{
    private string _dir = "";

    private static string Vision => ZooPaths.Vision;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-failure-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string Merge(string output, string @base, params string[] extra) => Succeed(
        ["merge", "--method", "task_arithmetic", "--base", @base, "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}",
         "--model", $"b={Path.Combine(Vision, "digits.safetensors")}", "-o", output, .. extra]);

    [TestMethod]
    public void ReportPage_NeverWritesThroughAFixedTemporaryName()
    {
        string report = Path.Combine(_dir, "r", "report.json");
        Succeed("evaluate", Path.Combine(Vision, "recipes", "weight_average.yaml"), "--report", report);
        string notes = Path.Combine(_dir, "r", "report.html.tmp");
        File.WriteAllText(notes, "my notes");
        string thesis = Path.Combine(_dir, "thesis.txt");
        File.WriteAllText(thesis, "years of work");
        string linked = Path.Combine(_dir, "r2");
        Directory.CreateDirectory(linked);
        File.Copy(report, Path.Combine(linked, "report.json"));
        File.CreateSymbolicLink(Path.Combine(linked, "report.html.tmp"), thesis);

        Succeed("report", report);
        Succeed("report", Path.Combine(linked, "report.json"));
        Assert.AreEqual("my notes", File.ReadAllText(notes));
        Assert.AreEqual("years of work", File.ReadAllText(thesis));
        Assert.IsNull(new FileInfo(Path.Combine(linked, "report.html")).LinkTarget, "the page is a file of its own");
        StringAssert.Contains(File.ReadAllText(Path.Combine(linked, "report.html")), "MLNetMerge report");
    }

    [TestMethod]
    public void AnInputReachedThroughALink_IsStillAnInput()
    {
        string m = Path.Combine(_dir, "m");
        Merge(m, Path.Combine(Vision, "base.safetensors"));
        string link = Path.Combine(_dir, "mlink");
        Directory.CreateSymbolicLink(link, m);
        File.CreateSymbolicLink(Path.Combine(_dir, "basefile.safetensors"), Path.Combine(m, "model.safetensors"));
        foreach (var viaLink in new[] { Path.Combine(link, "model.safetensors"), Path.Combine(_dir, "basefile.safetensors") })
        {
            var result = Run("merge", "--method", "task_arithmetic", "--base", viaLink, "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}",
                "--model", $"b={Path.Combine(Vision, "digits.safetensors")}", "-o", m, "--force");
            StringAssert.Contains(AssertOneLine(result), "holds 'model.safetensors', which is an input of this run");
            Assert.IsTrue(File.Exists(Path.Combine(m, "model.safetensors")), viaLink);
        }
        // embed's output through a link onto its own input is refused the same way.
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new float[784], [1, 1, 28, 28]);
        File.CreateSymbolicLink(Path.Combine(_dir, "xl.npy"), input);
        StringAssert.Contains(AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", Path.Combine(_dir, "xl.npy"), "-o", input, "--force")),
            "is an input of this command");
    }

    [TestMethod]
    public void AnOutputThatCannotBeCreated_IsRefusedBeforeTheWork()
    {
        string file = Path.Combine(_dir, "afile");
        File.WriteAllText(file, "x");
        StringAssert.Contains(AssertOneLine(Run("merge", "--method", "task_arithmetic", "--base", Path.Combine(Vision, "base.safetensors"),
            "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}", "-o", Path.Combine(file, "x"))), "'" + file + "' is a file, not a folder");
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new float[784], [1, 1, 28, 28]);
        StringAssert.Contains(AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", input, "-o", Path.Combine(file, "y.npy"))), "is a file, not a folder");
        StringAssert.Contains(AssertOneLine(Run("merge", "--method", "task_arithmetic", "--base", Path.Combine(Vision, "base.safetensors"),
            "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}", "-o", "/")), "/: is the root of the file system");
        // Reports are checked before the evaluation or the demo runs (they failed at the end, after minutes of work).
        StringAssert.Contains(AssertOneLine(Run("evaluate", Path.Combine(Vision, "recipes", "weight_average.yaml"), "--report", Path.Combine(file, "report.json"))), "is a file, not a folder");
        StringAssert.Contains(AssertOneLine(Run("demo", "--zoo", Vision, "-o", file)), "is a file; the demo writes its reports into a folder there");
        // A folder that takes no new entry (immutable; root ignores mode bits) stops a run's export before its sweep runs.
        string frozen = Path.Combine(_dir, "frozen");
        Directory.CreateDirectory(frozen);
        if (!Chattr("+i", frozen)) Assert.Inconclusive("chattr is not available here");
        try
        {
            string recipe = Path.Combine(_dir, "r.yaml");
            File.WriteAllText(recipe, File.ReadAllText(Path.Combine(Vision, "recipes", "ties.yaml")).Replace("base: ", $"base: {Vision}/").Replace("path: ", $"path: {Vision}/")
                + $"export: {{ onnx: {Path.Combine(frozen, "onnx")}, per_task: true }}\n");
            var watch = Stopwatch.StartNew();
            StringAssert.Contains(AssertOneLine(Run("run", recipe, "-o", Path.Combine(_dir, "out"))), "accepts no new entry");
            Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "out")), "nothing was merged or written");
        }
        finally { Chattr("-i", frozen); }
    }

    [TestMethod]
    public void Force_NeverDeletesAFileAUserAddedToAnEarlierOutput()
    {
        // A run whose export folder lies inside its output: the export is an output of its own, written after the merge.
        string recipe = Path.Combine(_dir, "r.yaml");
        File.WriteAllText(recipe, $"method: ties\nbase: {Vision}/base.safetensors\nmodels:\n  - {{ name: fashion, path: {Vision}/fashion.safetensors }}\n" +
            $"  - {{ name: digits, path: {Vision}/digits.safetensors }}\noutput: out\nexport: {{ onnx: out/onnx, per_task: true }}\n");
        Succeed("run", recipe);
        Succeed("run", recipe, "--force");
        string output = Path.Combine(_dir, "out");
        foreach (var added in new[] { "notes.txt", Path.Combine("onnx", "mine.txt") })
        {
            File.WriteAllText(Path.Combine(output, added), "mine");
            StringAssert.Contains(AssertOneLine(Run("run", recipe, "--force")), $"holds an entry no run wrote ({added.Replace('\\', '/')})");
            Assert.AreEqual("mine", File.ReadAllText(Path.Combine(output, added)));
            File.Delete(Path.Combine(output, added));
        }
        string folder = Path.Combine(output, "drafts");
        Directory.CreateDirectory(folder);
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "--force")), "(drafts/)");
        Directory.Delete(folder);
        Succeed("run", recipe, "--force");

        // A copy of an earlier output carries a record of its own, and a page a user named report.html looks like a report:
        // neither was written into this output by a run, so neither is deleted with it.
        string other = Path.Combine(_dir, "other");
        Merge(other, Path.Combine(Vision, "base.safetensors"));
        CopyFolder(other, Path.Combine(output, "backup"));
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "--force")), "(backup/");
        Directory.Delete(Path.Combine(output, "backup"), recursive: true);
        string page = Path.Combine(output, "report.html");
        File.WriteAllText(page, "<html><title>my notes</title></html>");
        // (merge runs no export: the same recipe without that section, so stderr holds the error alone.)
        string mergeOnly = Path.Combine(_dir, "merge-only.yaml");
        File.WriteAllText(mergeOnly, File.ReadAllText(recipe).Replace("export: { onnx: out/onnx, per_task: true }\n", "", StringComparison.Ordinal));
        StringAssert.Contains(AssertOneLine(Run("merge", mergeOnly, "--force")), "(report.html)");
        File.Delete(page);

        // A damaged or missing record: what else the folder holds cannot be told, so it is not replaced.
        string record = Path.Combine(output, OutputContents.RecordName);
        string saved = File.ReadAllText(record);
        File.WriteAllText(record, "{");
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "--force")), "is damaged");
        File.Delete(record);
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "--force")), "is missing");
        File.WriteAllText(record, saved);
        Succeed("run", recipe, "--force");
    }

    [TestMethod]
    public void Force_RefusesAnOutputHoldingAMountPoint()
    {
        // A folder mounted over a recorded one (tasks/) was emptied through the mount when the old output was deleted.
        string m = Path.Combine(_dir, "m");
        Merge(m, Path.Combine(Vision, "base.safetensors"), "--materialize", "a");
        string mine = Path.Combine(_dir, "mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "a.safetensors"), "mine");
        string tasks = Path.Combine(m, "tasks");
        if (!Tool("mount", "--bind", mine, tasks)) Assert.Inconclusive("mount --bind is not available here");
        try
        {
            StringAssert.Contains(AssertOneLine(Run("merge", "--method", "task_arithmetic", "--base", Path.Combine(Vision, "base.safetensors"),
                "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}", "--model", $"b={Path.Combine(Vision, "digits.safetensors")}", "-o", m, "--force")),
                $"holds a mount point ({tasks})");
        }
        finally { Tool("umount", tasks); }
        Assert.AreEqual("mine", File.ReadAllText(Path.Combine(mine, "a.safetensors")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyFolder(d, Path.Combine(to, Path.GetFileName(d)));
    }

    [TestMethod]
    public void AReplacedOutputThatCannotBeRemoved_IsAWarning_NotAFailedRun()
    {
        // The new output is in place; an undeletable file in the old one made the run exit 2 as if nothing was written.
        string m = Path.Combine(_dir, "m");
        Merge(m, Path.Combine(Vision, "base.safetensors"));
        string stuck = Path.Combine(m, "README.md");
        if (!Chattr("+i", stuck)) Assert.Inconclusive("chattr is not available here");
        string? old = null;
        try
        {
            var (code, _, err) = Run("merge", "--method", "task_arithmetic", "--base", Path.Combine(Vision, "base.safetensors"),
                "--model", $"a={Path.Combine(Vision, "fashion.safetensors")}", "-o", m, "--force");
            Assert.AreEqual(0, code, err);
            StringAssert.Contains(err, "warning: the replaced output could not be removed completely and was left at ");
            old = Directory.EnumerateDirectories(_dir, ".m.old-*").Single();
            Assert.IsTrue(File.Exists(Path.Combine(m, "manifest.json")));
        }
        finally
        {
            Chattr("-i", old is null ? stuck : Path.Combine(old, "README.md"));
        }
    }

    [TestMethod]
    public void ADiscardedFileOnAFullDisk_LeavesNoTemporary()
    {
        // The flush of a file being discarded fails on a full disk; the temporary is deleted all the same.
        string dest = Path.Combine(_dir, "full.bin");
        var file = AtomicFile.Create(dest);
        file.Stream.Write(new byte[10]);
        string temp = Directory.EnumerateFiles(_dir, ".full.bin.*.tmp").Single();
        file.Stream.Close(); // the next flush of the stream fails as a full disk's would
        file.Dispose();
        Assert.IsFalse(File.Exists(temp));
        Assert.IsFalse(File.Exists(dest));
    }

    [TestMethod]
    public void AKilledWritersTemporaryFile_IsRemovedByTheNextWrite_ALiveOnesIsNot()
    {
        // `kill -9` during an embed left `.y.npy.<guid>.tmp` that nothing removed. Temporary files now carry their
        // process's id and start time; the next write to the same file removes those of processes that have ended.
        string dest = Path.Combine(_dir, "y.npy");
        using var dead = Process.Start(new ProcessStartInfo("true"))!;
        dead.WaitForExit();
        string stale = Path.Combine(_dir, $".y.npy.{dead.Id}-{DateTime.UtcNow.Ticks}-{Guid.NewGuid():N}.tmp");
        string live = Path.Combine(_dir, $".y.npy.{Environment.ProcessId}-{MLNetMerge.Data.ProcessIdentity.StartTicks}-{Guid.NewGuid():N}.tmp");
        string unrelated = Path.Combine(_dir, ".y.npy.notes.tmp");
        foreach (var f in new[] { stale, live, unrelated }) File.WriteAllText(f, "x");
        AtomicFile.Write(dest, s => s.Write(new byte[] { 1, 2, 3 }));
        Assert.IsFalse(File.Exists(stale), "a dead process's temporary is removed");
        Assert.IsTrue(File.Exists(live), "a live process's is left alone");
        Assert.IsTrue(File.Exists(unrelated), "a file not named like a temporary is never touched");
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(dest));
    }

    private static bool Chattr(string flag, string path) => Tool("chattr", flag, path);

    /// <summary>Runs a system tool; false when it is missing or fails (not root, no such tool).</summary>
    private static bool Tool(string name, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(name, args) { RedirectStandardError = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
