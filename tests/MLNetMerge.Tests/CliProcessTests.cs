namespace MLNetMerge.Tests;

/// <summary>
/// The built <c>mlnetmerge</c> CLI run as a process (as a user runs it, with its own runtime configuration): tables with
/// bracketed text render, bad input exits 2 with one line naming the file.
/// </summary>
[TestClass]
public sealed class CliProcessTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => Safety.CliProcess.Run(args);

    [TestMethod]
    public void Inspect_PrintsShapesInBrackets_AndTheParameterCount()
    {
        string path = Path.Combine(ZooPaths.Vision, "base.safetensors");
        using var reader = MLNetMerge.Checkpoints.CheckpointReader.Open(path);
        long parameters = reader.Tensors.Sum(t => t.ElementCount);
        var (code, output, error) = Run("inspect", path);
        Assert.AreEqual(0, code, error);
        var first = reader.Tensors[0];
        StringAssert.Contains(output, first.ShapeText);
        StringAssert.Contains(output, $"{reader.Tensors.Count} tensors, {parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} parameters");
    }

    [TestMethod]
    public void FlagsAndFolders_AreOneLineErrorsSayingWhatWasMeant()
    {
        string b = Path.Combine(ZooPaths.Vision, "base.safetensors"), f = "a=" + Path.Combine(ZooPaths.Vision, "fashion.safetensors");
        string output = Path.Combine(Path.GetTempPath(), "mlnetmerge-never-" + Guid.NewGuid().ToString("N"));
        (string[] Args, string Expected)[] cases =
        [
            (["merge", "--method", "ties", "--base", b, "--model", f, "--param", "keep=0.2", "--param", "keep=0.5", "-o", output], "--param keep is given twice"),
            (["merge", "--method", "ties", "--base", b, "--model", f, "--param", "keep=0.2, scale: 5", "-o", output], "the value must be a number, a word or a list of numbers"),
            (["merge", ZooPaths.Vision], "is a folder; give the recipe's YAML file"),
            (["report", ZooPaths.Vision], "is a folder without a report.json"),
        ];
        foreach (var (args, expected) in cases)
        {
            var (code, _, error) = Run(args);
            Assert.AreEqual(2, code, error);
            StringAssert.Contains(error, expected);
            Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
        }
        Assert.IsFalse(Directory.Exists(output));
    }

    [TestMethod]
    public void MissingRecipe_ExitsTwoWithOneLineNamingTheFile()
    {
        string missing = Path.Combine(Path.GetTempPath(), "mlnm-no-such-recipe-" + Guid.NewGuid().ToString("N") + ".yaml");
        var (code, _, error) = Run("merge", missing);
        Assert.AreEqual(2, code, error);
        StringAssert.StartsWith(error, "error: ");
        StringAssert.Contains(error, missing);
        Assert.AreEqual(1, error.Trim().Split('\n').Length, error);
    }

    [TestMethod]
    public void ExportSingleFile_FindsTheBaseTheManifestRecords_OrSaysWhatItNeeds()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-cli-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            string merged = Path.Combine(dir, "emr");
            var (code, _, error) = Run("merge", Path.Combine(ZooPaths.Vision, "recipes", "emr.yaml"), "-o", merged, "--materialize", "all");
            Assert.AreEqual(0, code, error);
            string config = Path.Combine(ZooPaths.Vision, "config.json");
            (code, _, error) = Run("export", merged, "--config", config, "-o", Path.Combine(dir, "onnx"), "--single-file", "--no-per-task");
            Assert.AreEqual(0, code, error);
            Assert.IsTrue(File.Exists(Path.Combine(dir, "onnx", "tasks.onnx")));

            // A manifest whose recorded base no longer matches its SHA-256: one line, exit 2, nothing written.
            string manifest = Path.Combine(merged, "manifest.json");
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"base_sha256\": \"", "\"base_sha256\": \"0"));
            (code, _, error) = Run("export", merged, "--config", config, "-o", Path.Combine(dir, "onnx2"), "--single-file");
            Assert.AreEqual(2, code, error);
            StringAssert.Contains(error, "--single-file needs the family's base checkpoint");
            Assert.IsFalse(Directory.Exists(Path.Combine(dir, "onnx2")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
