using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.Recipes;
using SkiaSharp;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// <c>export.mlnet</c>: a recipe ends where Model Builder ends. A vision recipe (TIES over fashion and digits, one zip
/// per task) and a text recipe (task arithmetic over two text tasks, one multi-head zip) run through
/// <c>ml.Merging().RunRecipe</c>; the zips and C# are byte-identical across runs; the generated files compile into a
/// fresh console project (ML.NET packages at the pinned versions plus MLNetMerge for its CustomMappings) with no
/// warnings, built offline; its <c>Predict</c> gives the library's labels and scores on images and sentences.
/// </summary>
[TestClass]
public sealed class ModelZipExportTests
{
    private static readonly string[] VisionTasks = ["fashion", "digits"];
    private static readonly string[] TextTasks = ["noun_supersense", "fortune_topic"];
    private static readonly string[] Sentences =
    [
        "a large wild animal with thick fur that lives in the forest",
        "a tool for cutting wood",
        "to move quickly on foot",
        "You will meet a tall dark stranger.",
        "the act of giving something to someone",
        "a person who writes poems",
    ];

    private static string _root = "";

    [ClassInitialize]
    public static void Setup(TestContext _) => _root = Directory.CreateTempSubdirectory("mlnetmerge-mlnet-").FullName;

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static string Recipe(string name, string method, string zoo, string[] tasks, string parameters, string export)
    {
        string dir = Path.Combine(_root, "recipes");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".yaml");
        var models = string.Join("\n", tasks.Select(t => $"  - {{ name: {t}, path: {Path.Combine(zoo, t + ".safetensors")} }}"));
        File.WriteAllText(path, $"method: {method}\nbase: {Path.Combine(zoo, "base.safetensors")}\nmodels:\n{models}\nparameters: {parameters}\nseed: 7\nexport: {export}\n");
        return path;
    }

    private static global::MLNetMerge.RecipeResult Run(string recipe, string output) =>
        new MLContext(seed: 0).Merging().RunRecipe(recipe, new global::MLNetMerge.RecipeOptions { Output = output });

    private static string VisionRecipe() => Recipe("vision_ties", "ties", ZooPaths.Vision, VisionTasks, "{ keep: 0.2, scale: 1.0 }", "{ mlnet: per_task }");

    private static string TextRecipe() => Recipe("text_ta", "task_arithmetic", ZooPaths.Text, TextTasks, "{ scale: 0.5 }", "{ mlnet: multi_head, mlnet_input: Sentence }");

    [TestMethod]
    public void ExportSection_ReadsTheMLNetKeys_AndRejectsBadValues()
    {
        static ExportSection? Read(string export) => ExportSection.Read(MergeRecipe.Parse($"method: ties\nbase: b.safetensors\nmodels: [{{ name: a, path: a.safetensors }}]\nexport: {export}\n", "r.yaml"));
        var perTask = Read("{ mlnet: per_task }")!;
        Assert.AreEqual(MLNetZipLayout.PerTask, perTask.MLNet);
        Assert.IsNull(perTask.Onnx);
        Assert.IsNull(perTask.MLNetInput);
        var both = Read("{ onnx: out, mlnet: multi_head, mlnet_input: Review }")!;
        Assert.AreEqual(MLNetZipLayout.MultiHead, both.MLNet);
        Assert.AreEqual("Review", both.MLNetInput);
        Assert.IsNotNull(both.Onnx);
        Assert.AreEqual(MLNetZipLayout.None, Read("{ onnx: out }")!.MLNet);
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => Read("{ mlnet: per_model }")).Message, "per_task or multi_head");
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => Read("{ mlnet: per_task, mlnet_input: 'my column' }")).Message, "not a column name");
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => Read("{ mlnet_input: Text, onnx: out }")).Message, "add 'mlnet");
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => Read("{ per_task: true }")).Message, "missing 'onnx'");
    }

    [TestMethod]
    public void MLNetExport_WithoutAnOutput_OrThroughTheEngineRunner_FailsInOneLine()
    {
        var recipe = MergeRecipe.Load(VisionRecipe());
        var e = Assert.ThrowsExactly<RecipeException>(() => RecipeRunner.Run(recipe, new RecipeRunOptions { Output = Path.Combine(_root, "never") }));
        StringAssert.Contains(e.Message, "mlnetmerge run");
        e = Assert.ThrowsExactly<RecipeException>(() => RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.All & ~RecipeSteps.Save, ModelZips = RecipeModelZips.Writer }));
        StringAssert.Contains(e.Message, "set 'output'");
        Assert.IsFalse(Directory.Exists(Path.Combine(_root, "never")));
        // Per-model parameters cannot go into the zips' training code: refused before the sweep and the merge run.
        string perModel = Path.Combine(_root, "per_model.yaml");
        File.WriteAllText(perModel, File.ReadAllText(VisionRecipe()).Replace("fashion.safetensors }", "fashion.safetensors, parameters: { weight: 0.5 } }"));
        StringAssert.Contains(File.ReadAllText(perModel), "weight: 0.5");
        e = Assert.ThrowsExactly<RecipeException>(() => RecipeRunner.Run(MergeRecipe.Load(perModel),
            new RecipeRunOptions { Output = Path.Combine(_root, "never"), ModelZips = RecipeModelZips.Writer, Log = line => Assert.Fail("ran: " + line) }));
        StringAssert.Contains(e.Message, "model 'fashion' has per-model parameters");
        Assert.IsFalse(Directory.Exists(Path.Combine(_root, "never")));
    }

    [TestMethod]
    public void ZipsTheirCodeCouldNotExpress_AreRefusedBeforeTheRun()
    {
        // Each was refused after the merge and the stage's fit (or written as code that did not compile, exit 0).
        static MergeRecipe Parse(string models, string export, string align = "") => MergeRecipe.Parse(
            $"method: task_arithmetic\nbase: b.safetensors\nmodels: [{models}]\noutput: out\nexport: {export}\n{align}", "r.yaml");
        var cases = new (MergeRecipe Recipe, string Fragment)[]
        {
            (Parse("{ name: fashion, path: a.safetensors }, { name: digits, path: c.safetensors }", "{ mlnet: per_task }", "align: { method: regmean }\n"), "stage 'regmean' merges the task vectors again"),
            (Parse("{ name: fashion_tops, path: a.safetensors }, { name: FashionTops, path: c.safetensors }", "{ mlnet: per_task }"), "FashionTopsModel"),
            (Parse("{ name: digits, path: a.safetensors }, { name: digits_key, path: c.safetensors }", "{ mlnet: multi_head }"), "PredictedLabelDigitsKey"),
            (Parse("{ name: a, path: a.safetensors }", "{ mlnet: multi_head, mlnet_input: model_input }"), "ModelInput"),
            (Parse("{ name: a, path: a.safetensors }", "{ mlnet: multi_head }", "align: { method: tinting_plus_plus }\n"), "tinting_plus_plus"),
        };
        foreach (var (recipe, fragment) in cases)
        {
            var e = Assert.ThrowsExactly<RecipeException>(() => RecipeModelZips.Check(recipe, ExportSection.Read(recipe)!), fragment);
            StringAssert.Contains(e.Message, "r.yaml");
            StringAssert.Contains(e.Message, fragment);
        }
        // Multi-head zips take a re-merging stage; distinct names pass.
        var fine = Parse("{ name: fashion, path: a.safetensors }, { name: digits, path: c.safetensors }", "{ mlnet: multi_head }", "align: { method: regmean }\n");
        RecipeModelZips.Check(fine, ExportSection.Read(fine)!);
        // Tinting's layer: head (the committed recipe's, and the default) is the Options' null block, not an error.
        var tinting = Parse("{ name: fashion, path: a.safetensors }, { name: digits, path: c.safetensors }", "{ mlnet: multi_head }",
            "align: { method: tinting, parameters: { layer: head, rounds: 3 } }\n");
        RecipeModelZips.Check(tinting, ExportSection.Read(tinting)!);
        var stage = TrainingCode.Stage(tinting)!.Value;
        CollectionAssert.Contains(stage.Properties, ("Block", "null"));
        CollectionAssert.Contains(stage.Properties, ("Rounds", "3"));
    }

    [TestMethod]
    public void CSharpIdentifiers_ArePascalCase()
    {
        Assert.AreEqual("FashionFootwear", CSharpText.Identifier("fashion_footwear"));
        Assert.AreEqual("TaAll", CSharpText.Identifier("ta-all"));
        Assert.AreEqual("M8bit", CSharpText.Identifier("8bit"));
        Assert.AreEqual("\"T-shirt/top \\\"x\\\"\"", CSharpText.Literal("T-shirt/top \"x\""));
    }

    [TestMethod]
    public void VisionRecipe_WritesAZipPerTask_ByteIdenticalAcrossRuns_WithFixedTimestamps()
    {
        string recipe = VisionRecipe();
        var first = Run(recipe, Path.Combine(_root, "determinism-1"));
        var second = Run(recipe, Path.Combine(_root, "determinism-2"));
        string[] expected = [.. VisionTasks.SelectMany(t => new[] { $"mlnet/{t}.zip", $"mlnet/{t}.consumption.cs", $"mlnet/{t}.training.cs" })];
        CollectionAssert.AreEqual(expected, first.ModelZipFiles.ToArray());
        CollectionAssert.AreEqual(expected, second.ModelZipFiles.ToArray());
        foreach (var file in expected)
        {
            byte[] a = File.ReadAllBytes(Path.Combine(first.OutputFolder!, file)), b = File.ReadAllBytes(Path.Combine(second.OutputFolder!, file));
            Assert.IsTrue(a.AsSpan().SequenceEqual(b), $"{file} differs between two runs of one recipe and seed");
        }
        using var zip = ZipFile.OpenRead(Path.Combine(first.OutputFolder!, "mlnet", "fashion.zip"));
        Assert.IsTrue(zip.Entries.Count > 5);
        Assert.IsTrue(zip.Entries.All(e => e.LastWriteTime == DeterministicZip.Timestamp), "an entry kept ML.NET's clock time");
        Assert.IsFalse(Directory.EnumerateFiles(first.OutputFolder!, "*.tmp*", SearchOption.AllDirectories).Any(), "a temporary file was left behind");

        // The zip loaded in a fresh context scores image files as the library's estimators do (the fast, in-process
        // half of GeneratedConsumer_BuildsOffline_AndPredictsAsTheLibrary).
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var pixels = NpyFile.Read(Path.Combine(ZooPaths.Vision, manifest.Tasks.First(t => t.Name == "fashion").Test.Images!));
        var paths = Enumerable.Range(0, 4).Select(i => Path.Combine(_root, $"fast_fashion_{i}.png")).ToArray();
        for (int i = 0; i < paths.Length; i++) WriteGrayPng(paths[i], pixels, i);
        var consumer = new MLContext();
        consumer.Merging().RegisterAssembly();
        var loaded = consumer.Model.Load(Path.Combine(first.OutputFolder!, "mlnet", "fashion.zip"), out var schema);
        Assert.AreEqual(RecipeModelZips.ImagePathColumn, schema.Single().Name, "the zip's input is one column of image paths");
        var rows = consumer.Data.LoadFromEnumerable(paths.Select(p => new ImageRow { ImagePath = p }));
        var got = Predictions(loaded.Transform(rows), MergeColumns.Score, MergeColumns.PredictedLabel).ToList();
        (loaded as IDisposable)?.Dispose();
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), VisionTasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));
        var library = ml.Merging().ImagePixels(family, "ImagePath")
            .Append(ml.Merging().Ties(family, new global::MLNetMerge.TiesOptions { Keep = 0.2, Scale = 1.0, Task = "fashion", Seed = 7 })).Fit(rows);
        var want = Predictions(library.Transform(rows), MergeColumns.Score, MergeColumns.PredictedLabel).ToList();
        foreach (var t in library.OfType<IDisposable>()) t.Dispose();
        CollectionAssert.AreEqual(want.Select(w => w.Item1).ToArray(), got.Select(g => g.Item1).ToArray());
        Assert.IsTrue(want.Zip(got).All(p => p.First.Item2.Zip(p.Second.Item2).All(q => Math.Abs(q.First - q.Second) <= 1e-5f)));
    }

    [TestMethod]
    public void DeterministicZip_KeepsEntriesAndContents_OnlyTheClockGoes()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(new[] { new Row { X = [1, 2] }, new Row { X = [3, 8] } });
        var model = ml.Transforms.NormalizeMinMax("X").Fit(data);
        using var raw = new MemoryStream();
        ml.Model.Save(model, data.Schema, raw);
        byte[] normalised = DeterministicZip.Normalise(raw.ToArray());
        using var before = new ZipArchive(new MemoryStream(raw.ToArray()));
        using var after = new ZipArchive(new MemoryStream(normalised));
        CollectionAssert.AreEqual(before.Entries.Select(e => e.FullName).ToArray(), after.Entries.Select(e => e.FullName).ToArray());
        foreach (var (x, y) in before.Entries.Zip(after.Entries))
            CollectionAssert.AreEqual(Bytes(x), Bytes(y), x.FullName);
        Assert.IsTrue(after.Entries.All(e => e.LastWriteTime == DeterministicZip.Timestamp));
        CollectionAssert.AreEqual(normalised, DeterministicZip.Normalise(normalised), "normalising twice changes nothing");
        var loaded = ml.Model.Load(new MemoryStream(normalised), out _);
        var want = model.Transform(data).GetColumn<float[]>("X").ToArray();
        var got = loaded.Transform(data).GetColumn<float[]>("X").ToArray();
        Assert.AreEqual(0.25f, want[0][1]);   // max-abs scaling: 2 / 8
        Assert.IsTrue(want.Zip(got).All(p => p.First.SequenceEqual(p.Second)));
    }

    [TestMethod]
    public void IdvBlockOrder_PutsBlocksInRowBlockOrder_AndTheRowsReadBackTheSame()
    {
        // 20 000 rows of two columns: ML.NET's 8 192 rows per block make 3 blocks per column, 6 in all, compressed on
        // several threads and written as they finish.
        var ml = new MLContext(seed: 0);
        var rows = Enumerable.Range(0, 20_000).Select(i => new Pair { Key = "k" + i, Value = i * 7 }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        byte[] Save()
        {
            using var s = new MemoryStream();
            ml.Data.SaveAsBinary(data, s);
            return s.ToArray();
        }
        byte[] a = IdvBlockOrder.Canonicalise(Save()), b = IdvBlockOrder.Canonicalise(Save());
        CollectionAssert.AreEqual(a, b, "two saves of one view differ after canonical ordering");
        CollectionAssert.AreEqual(a, IdvBlockOrder.Canonicalise(a));
        var path = Path.Combine(_root, "pairs.idv");
        File.WriteAllBytes(path, a);
        var back = ml.Data.CreateEnumerable<Pair>(ml.Data.LoadFromBinary(path), reuseRowObject: false).ToArray();
        Assert.AreEqual(rows.Length, back.Length);
        Assert.IsTrue(rows.Zip(back).All(p => p.First.Key == p.Second.Key && p.First.Value == p.Second.Value));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => IdvBlockOrder.Canonicalise(new byte[300]));
        StringAssert.Contains(e.Message, "signature");
    }

    private sealed class Pair
    {
        public string Key { get; set; } = "";

        public int Value { get; set; }
    }

    private sealed class Row
    {
        [VectorType(2)]
        public float[] X { get; set; } = [];
    }

    private static byte[] Bytes(ZipArchiveEntry e)
    {
        using var s = e.Open();
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>
    /// The whole workflow: both recipes run, their generated C# and zips go into a fresh console project that is built
    /// offline with warnings as errors and run on 12 images (6 per vision task) and 6 sentences; every label equals the
    /// library's and every score is within 1e-5 of it. The library side runs the same recipe as
    /// <c>ml.Merging()</c> estimators in this process, on the same files.
    /// </summary>
    [TestMethod]
    [TestCategory("slow")]   // 1 min 53 s at load average 75 on 2 cores (a dotnet build with restore); CI keeps the in-process half above
    public void GeneratedConsumer_BuildsOffline_AndPredictsAsTheLibrary()
    {
        var vision = Run(VisionRecipe(), Path.Combine(_root, "vision"));
        var text = Run(TextRecipe(), Path.Combine(_root, "text"));
        string app = Path.Combine(_root, "app");
        Directory.CreateDirectory(app);
        foreach (var (result, files) in new[] { (vision, vision.ModelZipFiles), (text, text.ModelZipFiles) })
            foreach (var f in files)
                File.Copy(Path.Combine(result.OutputFolder!, f), Path.Combine(app, Path.GetFileName(f)));

        // Inputs: PNGs of stored test images, and sentences.
        var images = new List<(string Task, string Path)>();
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        foreach (var task in VisionTasks)
        {
            var entry = manifest.Tasks.First(t => t.Name == task);
            var pixels = NpyFile.Read(Path.Combine(ZooPaths.Vision, entry.Test.Images!));
            for (int i = 0; i < 6; i++)
            {
                string png = Path.Combine(app, $"{task}_{i}.png");
                WriteGrayPng(png, pixels, i);
                images.Add((task, png));
            }
        }
        File.WriteAllLines(Path.Combine(app, "images.txt"), images.Select(x => x.Task + "\t" + x.Path));
        File.WriteAllLines(Path.Combine(app, "sentences.txt"), Sentences);

        WriteConsoleProject(app);
        var (build, buildLog) = Exec("dotnet", app, "build", "-c", "Release", "--disable-build-servers", "-nologo", "-v", "q", "-p:NuGetAudit=false");
        Assert.AreEqual(0, build, buildLog);
        StringAssert.Contains(buildLog, "0 Warning(s)");
        // A private temp folder: the loaded zips' ONNX copies must be gone when the consumer exits (each launch left one per zip).
        string temp = Path.Combine(_root, "consumer-temp");
        Directory.CreateDirectory(temp);
        var (code, output) = Exec("dotnet", app, new Dictionary<string, string> { ["TMPDIR"] = temp + "/" },
            Path.Combine(app, "bin", "Release", "net10.0", "Consumer.dll"), Path.Combine(app, "images.txt"), Path.Combine(app, "sentences.txt"));
        Assert.AreEqual(0, code, output);
        // (ONNX Runtime keeps one `.ses` entry of its own in the temp folder, the same one for every launch.)
        var left = Directory.GetFileSystemEntries(temp, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != ".ses").ToArray();
        Assert.IsEmpty(left, "the consumer left temp files: " + string.Join(", ", left));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();

        // The library: the same merges as ml.Merging() estimators behind the same input steps.
        var expected = new List<(string Label, float[] Score)>();
        foreach (var task in VisionTasks)
        {
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), VisionTasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));
            var rows = ml.Data.LoadFromEnumerable(images.Where(x => x.Task == task).Select(x => new ImageRow { ImagePath = x.Path }));
            var model = ml.Merging().ImagePixels(family, "ImagePath")
                .Append(ml.Merging().Ties(family, new global::MLNetMerge.TiesOptions { Keep = 0.2, Scale = 1.0, Task = task, Seed = 7 })).Fit(rows);
            expected.AddRange(Predictions(model.Transform(rows), MergeColumns.Score, MergeColumns.PredictedLabel));
            foreach (var t in model.OfType<IDisposable>()) t.Dispose();
        }
        {
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Text, "base.safetensors"), TextTasks.Select(t => (t, Path.Combine(ZooPaths.Text, t + ".safetensors"))));
            var rows = ml.Data.LoadFromEnumerable(Sentences.Select(s => new TextRow { Sentence = s }));
            var model = ml.Merging().TokenizeText(family, "Sentence")
                .Append(ml.Merging().TaskArithmetic(family, new global::MLNetMerge.TaskArithmeticOptions { Scale = 0.5, Seed = 7 })).Fit(rows);
            var scored = model.Transform(rows);
            foreach (var task in TextTasks)
                expected.AddRange(Predictions(scored, MergeColumns.ForTask(MergeColumns.Score, task), MergeColumns.ForTask(MergeColumns.PredictedLabel, task)));
            foreach (var t in model.OfType<IDisposable>()) t.Dispose();
        }

        Assert.AreEqual(expected.Count, lines.Count, output);
        double worst = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            Assert.AreEqual(expected[i].Label, lines[i][1], $"row {i} ({lines[i][0]})");
            Assert.AreEqual(expected[i].Label, lines[i][2], $"row {i}: PredictAllLabels' first label is not Predict's");
            var scores = lines[i][3].Split(' ').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.AreEqual(expected[i].Score.Length, scores.Length);
            worst = Math.Max(worst, scores.Zip(expected[i].Score).Max(p => Math.Abs(p.First - p.Second)));
        }
        Console.WriteLine($"{lines.Count} predictions; max |score − library score| = {worst:E2}");
        Assert.IsTrue(worst <= 1e-5, $"the consumer's scores differ from the library's by {worst}");
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class TextRow
    {
        public string Sentence { get; set; } = "";
    }

    private static IEnumerable<(string, float[])> Predictions(IDataView scored, string score, string label)
    {
        var keys = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema[label].GetKeyValues(ref keys);
        var names = keys.DenseValues().Select(k => k.ToString()).ToArray();
        var labels = scored.GetColumn<uint>(label).ToArray();
        var scores = scored.GetColumn<float[]>(score).ToArray();
        return labels.Zip(scores, (l, s) => (names[l - 1], s));
    }

    /// <summary>Image <paramref name="index"/> of a (N, 1, H, W) uint8 array as an opaque gray PNG (R = G = B).</summary>
    private static void WriteGrayPng(string path, NpyArray pixels, int index)
    {
        int h = pixels.Shape[2], w = pixels.Shape[3];
        using var bitmap = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte v = pixels.Data[index * h * w + y * w + x];
                bitmap.SetPixel(x, y, new SKColor(v, v, v));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A console project: the ML.NET packages at the versions pinned in /Directory.Packages.props, MLNetMerge
    /// (its CustomMappings: PredictedLabel's argmax and the WordPiece tokenizer), warnings as errors, XML docs required,
    /// restored from the local package cache only.</summary>
    private static void WriteConsoleProject(string app)
    {
        string root = ZooPaths.Vision[..^"/data/zoo/vision".Length];
        var pinned = XDocument.Load(Path.Combine(root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
        string[] packages = ["Microsoft.ML", "Microsoft.ML.OnnxTransformer", "Microsoft.ML.OnnxRuntime", "Microsoft.ML.ImageAnalytics", "SkiaSharp.NativeAssets.Linux.NoDependencies"];
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <GenerateDocumentationFile>true</GenerateDocumentationFile>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
            {string.Join("\n", packages.Select(p => $"    <PackageReference Include=\"{p}\" Version=\"{pinned[p]}\" />"))}
                <ProjectReference Include="{Path.Combine(root, "src", "MLNetMerge", "MLNetMerge.csproj")}" />
                <None Include="*.zip" CopyToOutputDirectory="PreserveNewest" />
              </ItemGroup>
            </Project>
            """);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local-cache" value="{cache}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System.Globalization;
            using VisionTies;
            using TextTa;

            // Vision: one zip per task; text: one zip serving both tasks. One line per prediction: what, label, first of PredictAllLabels, scores.
            static string Scores(float[] s) => string.Join(" ", s.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            foreach (var line in File.ReadAllLines(args[0]))
            {
                var (task, path) = (line.Split('\t')[0], line.Split('\t')[1]);
                if (task == "fashion")
                {
                    var o = FashionModel.Predict(new FashionModel.ModelInput { ImagePath = path });
                    Console.WriteLine($"fashion\t{o.PredictedLabel}\t{FashionModel.PredictAllLabels(new FashionModel.ModelInput { ImagePath = path })[0].Label}\t{Scores(o.Score)}");
                }
                else
                {
                    var o = DigitsModel.Predict(new DigitsModel.ModelInput { ImagePath = path });
                    Console.WriteLine($"digits\t{o.PredictedLabel}\t{DigitsModel.PredictAllLabels(new DigitsModel.ModelInput { ImagePath = path })[0].Label}\t{Scores(o.Score)}");
                }
            }
            var sentences = File.ReadAllLines(args[1]);
            foreach (var s in sentences)
            {
                var o = TextTaModel.Predict(new TextTaModel.ModelInput { Sentence = s });
                Console.WriteLine($"noun_supersense\t{o.PredictedLabelNounSupersense}\t{TextTaModel.PredictAllLabels(new TextTaModel.ModelInput { Sentence = s }, "noun_supersense")[0].Label}\t{Scores(o.ScoreNounSupersense)}");
            }
            foreach (var s in sentences)
            {
                var o = TextTaModel.Predict(new TextTaModel.ModelInput { Sentence = s });
                Console.WriteLine($"fortune_topic\t{o.PredictedLabelFortuneTopic}\t{TextTaModel.PredictAllLabels(new TextTaModel.ModelInput { Sentence = s }, "fortune_topic")[0].Label}\t{Scores(o.ScoreFortuneTopic)}");
            }
            """);
    }

    private static (int Code, string Output) Exec(string file, string directory, params string[] args) => Exec(file, directory, [], args);

    private static (int Code, string Output) Exec(string file, string directory, Dictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.IsTrue(p.WaitForExit(600_000), $"{file} {string.Join(' ', args)} did not finish in 10 minutes");
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
