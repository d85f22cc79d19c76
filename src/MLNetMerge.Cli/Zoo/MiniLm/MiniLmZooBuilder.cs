using MLNetMerge.Tensors;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Encoders;
using MLNetMerge.Text;

namespace MLNetMerge.Cli.Zoo.MiniLm;

/// <summary>Settings of <see cref="MiniLmZooBuilder"/>; the defaults are those of the published family.</summary>
internal sealed record MiniLmZooBuildOptions
{
    /// <summary>Seed of every draw (pools, splits, head initialisation, shuffles).</summary>
    public ulong Seed { get; init; }
    /// <summary>Split sizes per task.</summary>
    public MiniLmZooTasks.SplitSizes Sizes { get; init; } = new();
    /// <summary>Tokens per sequence T (<c>[CLS]</c> and <c>[SEP]</c> included; longer texts are truncated).</summary>
    public int SequenceLength { get; init; } = 32;
    /// <summary>Fine-tuning epochs per task (the epoch with the best validation accuracy is kept).</summary>
    public int FineTuneEpochs { get; init; } = 4;
    /// <summary>AdamW learning rate of the encoder.</summary>
    public double FineTuneLearningRate { get; init; } = 5e-5;
    /// <summary>AdamW learning rate of the head (trained with the encoder from N(0, 0.02²)).</summary>
    public double HeadLearningRate { get; init; } = 2e-3;
    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>λ grid of the build-time task-arithmetic check.</summary>
    public IReadOnlyList<double> ScaleGrid { get; init; } = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0];
    /// <summary>Only these tasks (null: all six).</summary>
    public IReadOnlyList<string>? Tasks { get; init; }
    /// <summary>WordNet database folder.</summary>
    public string WordNetDirectory { get; init; } = WordNetReader.DefaultDirectory;
    /// <summary>Fortune files folder.</summary>
    public string FortuneDirectory { get; init; } = FortuneReader.DefaultDirectory;
    /// <summary>The committed Debian snapshot (<c>data/zoo/minilm/sources/debian_sections.tsv</c>).</summary>
    public string DebianSnapshot { get; init; } = Path.Combine("data", "zoo", "minilm", "sources", "debian_sections.tsv");
    /// <summary>Where the imported all-MiniLM-L6-v2 is prepared (default: the cache, see <see cref="MiniLmPackage.DefaultCacheDirectory"/>).</summary>
    public string? BaseDirectory { get; init; }
    /// <summary>The restored package folder, when known (else NuGet's global packages folder).</summary>
    public string? PackageDirectory { get; init; }
}

/// <summary>
/// Builds the MiniLM family (<c>mlnetmerge zoo build minilm</c>): all-MiniLM-L6-v2 (<see cref="MiniLmPackage"/>, pooler
/// dropped; sentence embedding = mean of the last hidden states over real tokens) fine-tuned by the engine on six text
/// classification tasks from pinned real text (<see cref="MiniLmZooTasks"/>). Per task: a linear probe on the frozen base
/// (stored as a bound), then the whole encoder fine-tuned with a fresh head. Writes <c>vocab.txt</c>, <c>config.json</c>,
/// <c>base.safetensors</c> and the task checkpoints (<c>bert.*</c> + <c>classifier.*</c>), int32 token-id validation/test
/// splits and <c>manifest.json</c> (the format of the other zoos, so recipes, <c>evaluate</c> and <c>align</c> read it).
/// </summary>
internal static class MiniLmZooBuilder
{
    private const string Prefix = "bert.";

    /// <summary>Builds the family into <paramref name="directory"/> (created; existing zoo files are replaced).</summary>
    public static ZooManifest Build(string directory, MiniLmZooBuildOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        string Time() => $"[{clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s]";
        Directory.CreateDirectory(directory);
        int T = options.SequenceLength;

        // 1. The real base, imported from the NuGet package; the pooler is not part of the family (mean pooling).
        string baseDir = MiniLmPackage.Prepare(options.BaseDirectory ?? Path.Combine(MiniLmPackage.DefaultCacheDirectory, $"minilm-{MiniLmPackage.Version}", "base"),
            options.PackageDirectory);
        var cfg = (TextEncoderConfig)ModelConfigFile.Load(Path.Combine(baseDir, "config.json")).Config with { Pooler = false };
        var model = new TextEncoder(cfg);
        using (var reader = SafetensorsReader.Open(Path.Combine(baseDir, "model.safetensors"))) model.Load(reader);
        var baseValues = (float[])model.Parameters.Values.Clone();
        File.Copy(Path.Combine(baseDir, "vocab.txt"), Path.Combine(directory, "vocab.txt"), overwrite: true);
        AtomicFile.Write(Path.Combine(directory, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(TextZooBuilder.ConfigJson(cfg, "sentence-transformers/all-MiniLM-L6-v2") + "\n")));
        new TextSettings(T, TextPooling.Mean, Path.Combine(directory, "vocab.txt"), LowerCase: true).Write(directory, cfg.HiddenSize);
        ZooFiles.SaveEncoder(model.Parameters, Prefix, Path.Combine(directory, "base.safetensors"), null);
        var tokenizer = WordPieceTokenizer.Load(Path.Combine(directory, "vocab.txt"), new WordPieceTokenizer.Options { MaxLength = T, PaddingLength = T });
        log($"base: all-MiniLM-L6-v2 from {MiniLmPackage.PackageId} {MiniLmPackage.Version}, {model.Parameters.Values.Length:N0} parameters (pooler dropped) {Time()}");

        // 2. Tasks from the pinned sources.
        var src = MiniLmZooSources.Load(options.WordNetDirectory, options.FortuneDirectory, options.DebianSnapshot, options.Seed);
        var specs = MiniLmZooTasks.All.Where(s => options.Tasks is null || options.Tasks.Contains(s.Name)).ToList();
        var splits = specs.Select(s => MiniLmZooTasks.Build(src, s, options.Sizes, options.Seed)).ToList();
        log($"data: {src.Synsets.Count} synsets, {src.Fortunes.Count} fortunes, {src.Debian.Count} Debian packages; "
            + string.Join(", ", specs.Select((s, i) => $"{s.Name} {splits[i].Train.Count}/{splits[i].Validation.Count}/{splits[i].Test.Count}")) + $" {Time()}");

        // 3. Per task: linear probe on the base, then the encoder fine-tuned with a fresh head.
        var encoder = new TextDenseEncoder(model, T, TextPooling.Mean);
        var tasks = new List<ZooTask>();
        var heads = new List<TaskHead>();
        var taskValues = new List<float[]>();
        var validation = new List<TaskDataset>();
        var test = new List<TaskDataset>();
        for (int t = 0; t < specs.Count; t++)
        {
            var spec = specs[t];
            var classes = spec.ClassNames;
            TaskDataset Data(LabeledTexts texts)
            {
                var ids = TextZooBuilder.Tokenize(tokenizer, texts.Texts, T);
                return new TaskDataset(spec.Name, ids.Select(i => (float)i).ToArray(), [T], texts.Labels, classes);
            }
            var (trainTexts, valTexts, testTexts) = splits[t];
            var train = Data(trainTexts);
            var val = Data(valTexts);
            var tst = Data(testTexts);
            validation.Add(val); test.Add(tst);
            baseValues.CopyTo(model.Parameters.Values, 0);
            var (probe, probeSetting) = LinearProbe(encoder, train, val, model.EmbeddingSize);
            double lpVal = TextZooBuilder.Accuracy(encoder, probe, val), lpTest = TextZooBuilder.Accuracy(encoder, probe, tst);
            log($"  {spec.Name}: base + linear probe ({probeSetting}) {lpVal:P1} validation, {lpTest:P1} test {Time()}");
            var w = new float[train.ClassCount * model.EmbeddingSize]; var b = new float[train.ClassCount];
            RandomStreams.Create(options.Seed, "zoo.head_init", t).FillGaussian(w, 0.02f);
            var head = new TaskHead(w, b, train.ClassCount, model.EmbeddingSize);
            var ft = new VisionTrainer(encoder, w, b, trainEncoder: true, trainHead: true, options.FineTuneLearningRate, options.WeightDecay,
                headLearningRate: options.HeadLearningRate);
            var bestValues = (float[])baseValues.Clone();
            float[] bestW = (float[])w.Clone(), bestB = (float[])b.Clone();
            double ftVal = -1;
            for (int epoch = 0; epoch < options.FineTuneEpochs; epoch++)
            {
                double loss = ft.TrainEpoch(train, options.BatchSize, RandomStreams.Key(options.Seed, "zoo.finetune_epoch", epoch, specs[t].Name));
                double acc = TextZooBuilder.Accuracy(encoder, head, val);
                log($"  {spec.Name} epoch {epoch + 1}: train loss {loss:F4}, validation {acc:P1} {Time()}");
                if (acc > ftVal) { ftVal = acc; model.Parameters.Values.CopyTo(bestValues, 0); w.CopyTo(bestW, 0); b.CopyTo(bestB, 0); }
            }
            bestW.CopyTo(w, 0); bestB.CopyTo(b, 0);
            heads.Add(head);
            baseValues.CopyTo(model.Parameters.Values, 0);
            double baseVal = TextZooBuilder.Accuracy(encoder, head, val), baseTest = TextZooBuilder.Accuracy(encoder, head, tst);
            bestValues.CopyTo(model.Parameters.Values, 0);
            double ftTest = TextZooBuilder.Accuracy(encoder, head, tst);
            taskValues.Add(bestValues);
            string ckpt = spec.Name + ".safetensors";
            ZooFiles.SaveEncoder(model.Parameters, Prefix, Path.Combine(directory, ckpt), head);
            var valFiles = ZooFiles.SaveTokenSplit(directory, spec.Name, "validation", val);
            var testFiles = ZooFiles.SaveTokenSplit(directory, spec.Name, "test", tst);
            tasks.Add(new ZooTask(spec.Name, spec.Description, spec.ClassNames, ckpt, train.Count, valFiles, testFiles,
                new ZooTaskAccuracy(baseVal, baseTest, lpVal, lpTest, ftVal, ftTest)));
            log($"{spec.Name}: base + its head {baseTest:P1}, base + linear probe {lpTest:P1} → fine-tuned {ftTest:P1} (test) {Time()}");
        }

        // 4. Checks: weight averaging and task arithmetic (λ chosen on validation), Current protocol.
        var individual = tasks.Select(x => x.Accuracy!.FineTunedTest).ToArray();
        var checks = ZooChecks.NaiveMerges(encoder, baseValues, taskValues, heads, validation, test, individual, options.ScaleGrid, log);
        double seconds = clock.Elapsed.TotalSeconds;
        var manifest = new ZooManifest("minilm", "bert", "config.json", "base.safetensors",
            $"bert-base-uncased WordPiece token ids (vocab.txt, lower-cased, accents stripped): [CLS] text [SEP], truncated and padded with [PAD] = 0 to {T}",
            tasks,
            new ZooBuildInfo(options.Seed,
                $"none here: all-MiniLM-L6-v2 ({MiniLmPackage.PackageId} {MiniLmPackage.Version}, model.onnx SHA-256 {MiniLmPackage.ModelSha256}) imported as the base",
                0, 0, options.FineTuneEpochs,
                string.Create(CultureInfo.InvariantCulture, $"AdamW (wd {options.WeightDecay}), batch {options.BatchSize}, encoder lr {options.FineTuneLearningRate}, head lr {options.HeadLearningRate}, gradient-norm clip 1; heads trained with the encoder from N(0, 0.02²); embedding = mean of the last hidden states over real tokens; linear probe = full-batch AdamW on frozen base features, (lr, steps, wd) chosen on validation from (0.05, 300, 1e-3), (0.01, 1000, 1e-3), (0.05, 1000, 1e-2), (0.01, 3000, 1e-4), (0.05, 3000, 1e-4); the fine-tuning epoch with the best validation accuracy is kept; checks use the Current protocol, λ chosen on validation")),
            checks, "vocab.txt", T, "mean");
        manifest.Save(directory);
        log($"built in {seconds:F1} s");
        return manifest;
    }

    /// <summary>Probe settings tried (learning rate, full-batch AdamW steps, weight decay); the best validation accuracy wins (first on ties).</summary>
    public static readonly IReadOnlyList<(double Lr, int Steps, double Wd)> ProbeGrid =
        [(0.05, 300, 1e-3), (0.01, 1000, 1e-3), (0.05, 1000, 1e-2), (0.01, 3000, 1e-4), (0.05, 3000, 1e-4)];

    /// <summary>The linear-probe bound, made a fair one: a linear head on frozen base features with its optimisation
    /// settings chosen on validation from <see cref="ProbeGrid"/>.</summary>
    private static (TaskHead Head, string Setting) LinearProbe(TextDenseEncoder encoder, TaskDataset train, TaskDataset val, int width)
    {
        var features = TextZooBuilder.Embed(encoder, train);                // (N, E)
        var valFeatures = TextZooBuilder.Embed(encoder, val);               // (Nv, E)
        var valLabels = val.RequireLabels();
        TaskHead? best = null;
        string setting = "";
        double bestAcc = -1;
        foreach (var (lr, steps, wd) in ProbeGrid)
        {
            var (w, b) = VisionTrainer.LinearProbe(features, train.RequireLabels(), train.ClassCount, steps, lr, wd);
            var head = new TaskHead(w, b, train.ClassCount, width);
            var probs = head.Probabilities(valFeatures, val.Count);         // (Nv, K)
            int correct = 0;
            for (int i = 0; i < val.Count; i++)
            {
                var row = probs.AsSpan(i * head.ClassCount, head.ClassCount);
                int arg = 0;
                for (int c = 1; c < row.Length; c++) if (row[c] > row[arg]) arg = c;
                if (arg == valLabels[i]) correct++;
            }
            double acc = (double)correct / val.Count;
            if (acc > bestAcc) { bestAcc = acc; best = head; setting = string.Create(CultureInfo.InvariantCulture, $"lr {lr}, {steps} steps, wd {wd}"); }
        }
        return (best!, setting);
    }
}
