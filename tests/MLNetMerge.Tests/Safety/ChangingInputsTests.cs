using MLNetMerge.Checkpoints;
using MLNetMerge.Cli.Commands;
using MLNetMerge.Data;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// The world changing under a running command (found by a trial that changed inputs and outputs while runs ran): a
/// temporary folder removed mid-run is not re-created and committed without what was written; an input overwritten
/// while the merge read it fails the run before anything is committed; an array file that appears, or changes, while
/// <c>embed</c> runs is never replaced.
/// </summary>
[TestClass]
public sealed class ChangingInputsTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnetmerge-changing-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void ARemovedTemporaryFolder_IsNotRecreatedAndCommitted()
    {
        string final = Path.Combine(_dir, "out");
        using var output = AtomicDirectory.Begin(final, overwrite: false);
        File.WriteAllText(output.PathOf("model.safetensors"), "weights");
        Directory.Delete(output.TempPath, recursive: true);
        StringAssert.Contains(Assert.ThrowsExactly<MergeException>(() => output.PathOf("README.md")).Message, "was removed while the run wrote it");
        Assert.ThrowsExactly<MergeException>(output.Commit);
        Assert.IsFalse(Directory.Exists(final), "nothing committed");
    }

    [TestMethod]
    public void AnInputChangedWhileTheMergeRead_IsNamed()
    {
        string shard = Path.Combine(_dir, "a.safetensors");
        File.WriteAllBytes(shard, new byte[64]);
        File.SetLastWriteTimeUtc(shard, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var stamps = InputStamps.Take([shard]);
        stamps.Check();
        File.WriteAllBytes(shard, Enumerable.Repeat((byte)1, 64).ToArray()); // the same size, overwritten in place
        var e = Assert.ThrowsExactly<MergeException>(stamps.Check);
        Assert.AreEqual(Path.GetFullPath(shard), e.File);
        StringAssert.Contains(e.Message, "changed while the merge read it");
    }

    [TestMethod]
    public void AnArrayFileThatAppearedOrChanged_IsNotReplaced()
    {
        string path = Path.Combine(_dir, "y.npy");
        // No file when the command checked; one appears before the rename: the rule refuses it without --force.
        File.WriteAllText(path, "the user's own");
        Assert.ThrowsExactly<OutputExistsException>(() => NpyFile.Write(path, new float[] { 1, 2 }, [2], existing => OutputFiles.CheckReplace(existing, force: false)));
        Assert.AreEqual("the user's own", File.ReadAllText(path));
        // With --force only an earlier run's recorded array is replaced.
        Assert.ThrowsExactly<UnsafeOverwriteException>(() => NpyFile.Write(path, new float[] { 1, 2 }, [2], existing => OutputFiles.CheckReplace(existing, force: true)));
        Assert.AreEqual("the user's own", File.ReadAllText(path));
        Assert.AreEqual(1, Directory.GetFiles(_dir).Length, "no temporary file left");
        // No file at all: written.
        string fresh = Path.Combine(_dir, "z.npy");
        NpyFile.Write(fresh, new float[] { 1, 2 }, [2], existing => OutputFiles.CheckReplace(existing, force: false));
        CollectionAssert.AreEqual(new[] { 2 }, NpyFile.Read(fresh).Shape);
    }

    [TestMethod]
    public void AKillBetweenTheRenameAndTheLedger_LeavesTheOutputReplaceable()
    {
        // The ledger learns the new content's SHA-256 before the rename (beside the old one): killed in between, a later
        // --force still knows the file as the command's own (it refused with "was not written by an earlier run").
        string path = Path.Combine(_dir, "y.npy");
        NpyFile.Write(path, new float[] { 1, 2 }, [2]);
        OutputFiles.Record(path);
        string next = Path.Combine(_dir, "next.tmp");
        NpyFile.Write(next, new float[] { 3, 4 }, [2]);
        OutputFiles.RecordPending(path, next);
        OutputFiles.CheckNewNpy(path, force: true, []); // still the old content: known
        File.Move(next, path, overwrite: true);        // renamed, then killed before Record
        OutputFiles.CheckNewNpy(path, force: true, []); // the new content: known too
        OutputFiles.Record(path);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.ThrowsExactly<UnsafeOverwriteException>(() => OutputFiles.CheckNewNpy(path, force: true, []));
    }

    [TestMethod]
    public void TheMarkerLeavesOnlyAfterTheRename_AndDeletionsTakeItLast()
    {
        // A kill between removing the marker and the rename left a complete temporary folder no later run would remove.
        string final = Path.Combine(_dir, "out");
        using (var output = AtomicDirectory.Begin(final, overwrite: false))
        {
            File.WriteAllText(output.PathOf("model.safetensors"), "weights");
            output.Commit();
        }
        Assert.IsFalse(File.Exists(Path.Combine(final, TempFolders.MarkerName)), "no marker in the committed output");
        Assert.IsFalse(File.ReadAllText(Path.Combine(final, OutputContents.RecordName)).Contains(TempFolders.MarkerName, StringComparison.Ordinal));
        // (A stray marker left by a kill right after the rename is one of the tool's own entries: OutputContents.Extras
        // passes over every .mlnetmerge-* name, so --force still replaces such an output.)
        CollectionAssert.AreEqual(Array.Empty<string>(), OutputContents.Extras(final)!.ToArray());
        File.WriteAllText(Path.Combine(final, TempFolders.MarkerName), "stray");
        CollectionAssert.AreEqual(Array.Empty<string>(), OutputContents.Extras(final)!.ToArray());
        // Deleting a marked folder takes the marker last.
        string marked = TempFolders.Create(Path.Combine(_dir, "other"));
        Directory.CreateDirectory(Path.Combine(marked, "sub"));
        File.WriteAllText(Path.Combine(marked, "sub", "x"), "x");
        TempFolders.DeleteMarkedLast(marked);
        Assert.IsFalse(Directory.Exists(marked));
    }
}
