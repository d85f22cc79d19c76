using MLNetMerge.Tensors;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Encoders;

namespace MLNetMerge.Cli.Zoo;

/// <summary>Settings of <see cref="VisionZooBuilder"/>; the defaults are those of the committed zoo.</summary>
internal sealed record VisionZooBuildOptions
{
    /// <summary>Seed of every draw (splits, initialisation, shuffles).</summary>
    public ulong Seed { get; init; }
    /// <summary>Split sizes.</summary>
    public VisionZooTasks.SplitSizes Sizes { get; init; } = new();
    /// <summary>The encoder: ViT 28×28, patch 7, width 64, 4 blocks, 4 heads, MLP 128, GELU, 1 channel.</summary>
    public VisionTransformerConfig Encoder { get; init; } = new()
    {
        Flavor = VisionFlavor.Vit, ImageSize = 28, PatchSize = 7, NumChannels = 1, HiddenSize = 64, NumLayers = 4, NumHeads = 4,
        IntermediateSize = 128, Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, QkvBias = true,
    };
    /// <summary>Pooled unlabeled images for pretraining (drawn from every task's training images).</summary>
    public int PretrainExamples { get; init; } = 6000;
    /// <summary>Pretraining epochs (fresh random masks every epoch).</summary>
    public int PretrainEpochs { get; init; } = 3;
    /// <summary>Pretraining learning rate.</summary>
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>Fine-tuning epochs per task.</summary>
    public int FineTuneEpochs { get; init; } = 5;
    /// <summary>Fine-tuning learning rate.</summary>
    public double FineTuneLearningRate { get; init; } = 2e-4;
    /// <summary>Train each task's head together with the encoder from a fresh N(0, 0.02²) head (the default), instead of
    /// freezing the linear probe fitted on the base.</summary>
    public bool TrainHeads { get; init; } = true;
    /// <summary>Learning rate of a trained head.</summary>
    public double HeadLearningRate { get; init; } = 2e-3;
    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>λ grid of the build-time task-arithmetic check.</summary>
    public IReadOnlyList<double> ScaleGrid { get; init; } = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0];
    /// <summary>Folder of Fashion-MNIST's IDX files.</summary>
    public string FashionDirectory { get; init; } = VisionZooSources.DefaultFashionDirectory;
    /// <summary>Folder of scikit-learn's bundled CSV files.</summary>
    public string SklearnDirectory { get; init; } = VisionZooSources.DefaultSklearnDirectory;
}

/// <summary>
/// Builds the vision zoo (<c>mlnetmerge zoo build vision</c>): eight 28×28 image tasks from Fashion-MNIST and
/// scikit-learn digits; one small ViT pretrained by masked-patch reconstruction (no task labels) on pooled
/// training images of every task; per task a linear head fitted on the frozen base (the lower bound), then the
/// encoder fine-tuned with that head frozen, as the task-arithmetic papers fine-tune CLIP under a fixed zero-shot
/// head. Writes the checkpoints, uint8 validation/test subsets, <c>config.json</c> and <c>manifest.json</c>.
/// </summary>
internal static class VisionZooBuilder
{
    private const string Prefix = "vit.";

    /// <summary>Builds the zoo into <paramref name="directory"/>.</summary>
    /// <param name="directory">Output folder (created; existing zoo files are replaced).</param>
    /// <param name="options">Settings.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="progress">One report per pretraining and fine-tuning epoch (stages <c>pretrain</c>, <c>fine-tune</c>).</param>
    /// <param name="cancellationToken">Checked between epochs.</param>
    public static ZooManifest Build(string directory, VisionZooBuildOptions options, Action<string>? log = null,
        IProgress<Merging.MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(directory);
        var src = VisionZooSources.Load(options.FashionDirectory, options.SklearnDirectory);
        var specs = VisionZooTasks.All;
        var splits = specs.Select(s => VisionZooTasks.Build(src, s, options.Sizes, options.Seed)).ToList();
        log($"data: {string.Join(", ", specs.Select((s, i) => $"{s.Name} {splits[i].Train.Count}/{splits[i].Validation.Count}/{splits[i].Test.Count}"))} (train/validation/test) [{clock.Elapsed.TotalSeconds:F1} s]");

        // 1. Pretrain on pooled unlabeled training images by masked-patch reconstruction.
        var model = new VisionTransformer(options.Encoder);
        VisionTrainer.Initialize(model.Parameters, RandomStreams.Key(options.Seed, "zoo.encoder_init"));
        var pool = PoolImages(splits.Select(s => s.Train).ToList(), options.PretrainExamples, options.Seed);
        var pretrain = new MaskedPatchPretrainer(model, options.PretrainLearningRate, options.WeightDecay, (ulong)options.Seed + 2);
        for (int epoch = 0; epoch < options.PretrainEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new Merging.MergeProgress("pretrain", epoch, options.PretrainEpochs));
            double loss = pretrain.TrainEpoch(pool, options.BatchSize, RandomStreams.Key(options.Seed, "zoo.pretrain_epoch", epoch));
            log($"pretrain epoch {epoch + 1}/{options.PretrainEpochs}: masked-patch MSE {loss:F4} [{clock.Elapsed.TotalSeconds:F1} s]");
        }
        var baseValues = (float[])model.Parameters.Values.Clone();
        ZooFiles.SaveEncoder(model.Parameters, Prefix, Path.Combine(directory, "base.safetensors"), null);
        File.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson(options.Encoder));

        // 2. Per task: linear probe on the base, then fine-tune the encoder under the frozen head.
        var encoder = model;
        var tasks = new List<ZooTask>();
        var heads = new List<TaskHead>();
        var taskValues = new List<float[]>();
        var validation = new List<TaskDataset>();
        var test = new List<TaskDataset>();
        for (int t = 0; t < specs.Count; t++)
        {
            var spec = specs[t];
            var train = splits[t].Train.ToDataset(spec.Name, spec.ClassNames);
            var val = splits[t].Validation.ToDataset(spec.Name, spec.ClassNames);
            var tst = splits[t].Test.ToDataset(spec.Name, spec.ClassNames);
            validation.Add(val); test.Add(tst);
            baseValues.CopyTo(model.Parameters.Values, 0);
            var (lpW, lpB) = VisionTrainer.LinearProbe(EncoderSession.Embed(encoder, train, cancellationToken), train.RequireLabels(), train.ClassCount);
            var probe = new TaskHead(lpW, lpB, train.ClassCount, model.EmbeddingSize);
            double lpVal = Accuracy(encoder, probe, val), lpTest = Accuracy(encoder, probe, tst);
            float[] w, b;
            if (options.TrainHeads)
            {
                w = new float[train.ClassCount * model.EmbeddingSize]; b = new float[train.ClassCount];
                RandomStreams.Create(options.Seed, "zoo.head_init", t).FillGaussian(w, 0.02f);
            }
            else { w = (float[])lpW.Clone(); b = (float[])lpB.Clone(); }
            var head = new TaskHead(w, b, train.ClassCount, model.EmbeddingSize);
            var ft = new VisionTrainer(model, w, b, trainEncoder: true, trainHead: options.TrainHeads, options.FineTuneLearningRate, options.WeightDecay,
                headLearningRate: options.HeadLearningRate);
            // Keep the epoch with the best validation accuracy (the first on ties), as the individual models of the papers are selected.
            var bestValues = (float[])baseValues.Clone();
            float[] bestW = (float[])w.Clone(), bestB = (float[])b.Clone();
            double ftVal = -1;
            for (int epoch = 0; epoch < options.FineTuneEpochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new Merging.MergeProgress("fine-tune", t * options.FineTuneEpochs + epoch, specs.Count * options.FineTuneEpochs));
                ft.TrainEpoch(train, options.BatchSize, RandomStreams.Key(options.Seed, "zoo.finetune_epoch", epoch, specs[t].Name));
                double acc = Accuracy(encoder, head, val);
                if (acc > ftVal) { ftVal = acc; model.Parameters.Values.CopyTo(bestValues, 0); w.CopyTo(bestW, 0); b.CopyTo(bestB, 0); }
            }
            bestW.CopyTo(w, 0); bestB.CopyTo(b, 0);
            heads.Add(head);
            baseValues.CopyTo(model.Parameters.Values, 0);
            double baseVal = Accuracy(encoder, head, val), baseTest = Accuracy(encoder, head, tst);
            bestValues.CopyTo(model.Parameters.Values, 0);
            double ftTest = Accuracy(encoder, head, tst);
            taskValues.Add((float[])model.Parameters.Values.Clone());
            string ckpt = spec.Name + ".safetensors";
            ZooFiles.SaveEncoder(model.Parameters, Prefix, Path.Combine(directory, ckpt), head);
            var valFiles = SaveSplit(directory, spec.Name, "validation", splits[t].Validation);
            var testFiles = SaveSplit(directory, spec.Name, "test", splits[t].Test);
            tasks.Add(new ZooTask(spec.Name, spec.Description, spec.ClassNames, ckpt, train.Count, valFiles, testFiles,
                new ZooTaskAccuracy(baseVal, baseTest, lpVal, lpTest, ftVal, ftTest)));
            log($"{spec.Name}: base + its head {baseTest:P1}, base + linear probe {lpTest:P1} → fine-tuned {ftTest:P1} (test) [{clock.Elapsed.TotalSeconds:F1} s]");
        }

        // 3. Checks: weight averaging and task arithmetic (λ chosen on validation), Current protocol.
        var individual = tasks.Select(x => x.Accuracy!.FineTunedTest).ToArray();
        var checks = ZooChecks.NaiveMerges(encoder, baseValues, taskValues, heads, validation, test, individual, options.ScaleGrid, log);

        double seconds = clock.Elapsed.TotalSeconds;
        var manifest = new ZooManifest("vision", "vit", "config.json", "base.safetensors",
            "x = uint8 / 127.5 - 1 (mean 0.5, std 0.5 on [0, 1])", tasks,
            new ZooBuildInfo(options.Seed,
                "masked-patch reconstruction (half the 7×7 patches blanked, linear pixel decoder, MSE) on pooled training images of every task, no task labels",
                pool.Count, options.PretrainEpochs, options.FineTuneEpochs,
                string.Create(CultureInfo.InvariantCulture, $"AdamW (wd {options.WeightDecay}), batch {options.BatchSize}, pretrain lr {options.PretrainLearningRate}, fine-tune lr {options.FineTuneLearningRate}; heads: {(options.TrainHeads ? $"trained with the encoder from N(0, 0.02²), head lr {options.HeadLearningRate}" : "the linear probe, frozen during fine-tuning")}; linear probe = 300 full-batch AdamW steps on frozen base features; the fine-tuning epoch with the best validation accuracy is kept; checks use the Current protocol, λ chosen on validation")),
            checks);
        manifest.Save(directory);
        ZooChecksums.Write(directory, ZooChecksums.ThisBuild(manifest.Name));
        log($"built in {seconds:F1} s ({Environment.ProcessorCount} threads, {MLNetMerge.Tensors.InstructionSet.Current}); checksums in {ZooChecksums.FileName}");
        return manifest;
    }

    /// <summary>Share of correct arg-max predictions of encoder + head on a labeled dataset (<see cref="ZooChecks.Accuracy"/>).</summary>
    public static double Accuracy(Nn.IDenseEncoder encoder, TaskHead head, TaskDataset data) => ZooChecks.Accuracy(encoder, head, data);

    private static TaskDataset PoolImages(IReadOnlyList<ByteImages> trains, int count, ulong seed)
    {
        var all = trains.SelectMany(t => Enumerable.Range(0, t.Count).Select(i => (t, i))).ToArray();
        RandomStreams.Create(seed, "zoo.pretrain_pool").Shuffle(all.AsSpan());
        int n = Math.Min(count, all.Length);
        const int p = VisionZooSources.Pixels;
        var f = new float[n * p];
        for (int j = 0; j < n; j++)
        {
            var (t, i) = all[j];
            for (int q = 0; q < p; q++) f[j * p + q] = VisionZooTasks.Normalize(t.Images[i * p + q]);
        }
        return new TaskDataset("pool", f, [1, 28, 28], null, ["unlabeled"]);
    }

    private static ZooSplitFiles SaveSplit(string directory, string task, string split, ByteImages data)
    {
        Directory.CreateDirectory(Path.Combine(directory, task));
        string images = $"{task}/{split}_images.npy", labels = $"{task}/{split}_labels.npy";
        NpyFile.Write(Path.Combine(directory, images), new NpyArray(Tensors.DType.U8, [data.Count, 1, 28, 28], data.Images));
        NpyFile.Write(Path.Combine(directory, labels), data.Labels.Select(l => (long)l).ToArray(), [data.Count]);
        return new ZooSplitFiles(images, labels, data.Count);
    }

    private static string ConfigJson(VisionTransformerConfig c) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model_type"] = "vit", ["architectures"] = new[] { "ViTForImageClassification" },
        ["image_size"] = c.ImageSize, ["patch_size"] = c.PatchSize, ["num_channels"] = c.NumChannels,
        ["hidden_size"] = c.HiddenSize, ["num_hidden_layers"] = c.NumLayers, ["num_attention_heads"] = c.NumHeads,
        ["intermediate_size"] = c.IntermediateSize, ["hidden_act"] = "gelu", ["layer_norm_eps"] = c.LayerNormEps, ["qkv_bias"] = c.QkvBias,
    }, MLNetMerge.Data.JsonText.Indented);
}
