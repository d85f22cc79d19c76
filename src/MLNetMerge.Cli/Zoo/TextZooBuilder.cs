using MLNetMerge.Tensors;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Text;
using MLNetMerge.Encoders;

namespace MLNetMerge.Cli.Zoo;

/// <summary>Settings of <see cref="TextZooBuilder"/>; the defaults are those of the committed text zoo.</summary>
internal sealed record TextZooBuildOptions
{
    /// <summary>Seed of every draw (pools, splits, initialisation, masks, shuffles).</summary>
    public ulong Seed { get; init; }
    /// <summary>Split sizes per task.</summary>
    public TextZooTasks.SplitSizes Sizes { get; init; } = new();
    /// <summary>Target WordPiece vocabulary size (special tokens included).</summary>
    public int VocabularySize { get; init; } = 3000;
    /// <summary>Tokens per sequence T (<c>[CLS]</c> and <c>[SEP]</c> included; longer texts are truncated).</summary>
    public int SequenceLength { get; init; } = 32;
    /// <summary>The encoder (vocabulary size and positions are set from the build): BERT width 64, 2 blocks, 4 heads, MLP 128, no pooler.</summary>
    public TextEncoderConfig Encoder { get; init; } = new()
    {
        Flavor = TextFlavor.Bert, HiddenSize = 64, NumLayers = 2, NumHeads = 4, IntermediateSize = 128,
        Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, TypeVocabSize = 2, PadTokenId = 0, Pooler = false,
    };
    /// <summary>Train-pool texts drawn (once, seeded) for masked-language-model pretraining.</summary>
    public int PretrainExamples { get; init; } = 32000;
    /// <summary>Pretraining epochs over those texts (fresh masks every epoch).</summary>
    public int PretrainEpochs { get; init; } = 2;
    /// <summary>Pretraining learning rate.</summary>
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>Fine-tuning epochs per task.</summary>
    public int FineTuneEpochs { get; init; } = 5;
    /// <summary>Fine-tuning learning rate of the encoder.</summary>
    public double FineTuneLearningRate { get; init; } = 1e-3;
    /// <summary>Learning rate of the head (trained with the encoder from N(0, 0.02²)).</summary>
    public double HeadLearningRate { get; init; } = 1e-2;
    /// <summary>How the hidden states become the embedding the heads read (default: mean over real tokens).</summary>
    public TextPooling Pooling { get; init; } = TextPooling.Mean;
    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Batches between logged pretraining losses.</summary>
    public int LossLogInterval { get; init; } = 100;
    /// <summary>λ grid of the build-time task-arithmetic check.</summary>
    public IReadOnlyList<double> ScaleGrid { get; init; } = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0];
    /// <summary>WordNet database folder.</summary>
    public string WordNetDirectory { get; init; } = WordNetReader.DefaultDirectory;
    /// <summary>Fortune files folder.</summary>
    public string FortuneDirectory { get; init; } = FortuneReader.DefaultDirectory;
}

/// <summary>
/// Builds the text zoo (<c>mlnetmerge zoo build text</c>): five classification tasks from WordNet and fortune files
/// (<see cref="TextZooTasks"/>); a WordPiece vocabulary built on the train pool; one small BERT pretrained from scratch
/// by masked-language modelling on train-pool texts (no task labels); per task a linear probe on the frozen base (stored
/// as a bound), then the encoder fine-tuned together with a fresh head. Writes <c>vocab.txt</c>, <c>config.json</c>, the tokenizer and pooling settings (<see cref="TextSettings"/>),
/// the checkpoints (<c>bert.*</c> + <c>classifier.*</c>), int32 token-id validation/test splits and <c>manifest.json</c>.
/// </summary>
internal static class TextZooBuilder
{
    private const string Prefix = "bert.";

    /// <summary>Builds the zoo into <paramref name="directory"/>.</summary>
    /// <param name="directory">Output folder (created; existing zoo files are replaced).</param>
    /// <param name="options">Settings.</param>
    /// <param name="log">Progress lines.</param>
    public static ZooManifest Build(string directory, TextZooBuildOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(directory);
        int T = options.SequenceLength;
        var src = TextZooSources.Load(options.WordNetDirectory, options.FortuneDirectory, TextZooTasks.FortuneCategories, options.Seed);
        var specs = TextZooTasks.All;
        var splits = specs.Select(s => TextZooTasks.Build(src, s, options.Sizes, options.Seed)).ToList();
        log($"data: {src.Synsets.Count} synsets, {src.Fortunes.Count} fortunes; {string.Join(", ", specs.Select((s, i) => $"{s.Name} {splits[i].Train.Count}/{splits[i].Validation.Count}/{splits[i].Test.Count}"))} [{clock.Elapsed.TotalSeconds:F1} s]");

        // 1. Vocabulary from the train pool; tokenizer padding every text to T.
        var corpus = src.TrainPoolTexts().ToList();
        var vocab = WordPieceVocabularyBuilder.BuildToFile(corpus, Path.Combine(directory, "vocab.txt"),
            new WordPieceVocabularyBuilder.Options { VocabularySize = options.VocabularySize });
        var tokenizer = WordPieceTokenizer.Create(vocab, new WordPieceTokenizer.Options { MaxLength = T, PaddingLength = T });
        log($"vocabulary: {vocab.Count} WordPiece tokens from {corpus.Count} train-pool texts [{clock.Elapsed.TotalSeconds:F1} s]");

        // 2. Masked-language-model pretraining on a seeded draw of train-pool texts.
        var cfg = options.Encoder with { VocabSize = vocab.Count, MaxPositions = T };
        var model = new TextEncoder(cfg);
        VisionTrainer.Initialize(model.Parameters, RandomStreams.Key(options.Seed, "zoo.encoder_init"));
        var order = Enumerable.Range(0, corpus.Count).ToArray();
        RandomStreams.Create(options.Seed, "zoo.pretrain_corpus").Shuffle(order.AsSpan());
        int nPre = Math.Min(options.PretrainExamples, corpus.Count);
        var pretrainIds = Tokenize(tokenizer, order.Take(nPre).Select(i => corpus[i]).ToList(), T);
        tokenizer.TryGetId("[MASK]", out int maskId);
        var pretrain = new MaskedLanguageModelPretrainer(model, options.PretrainLearningRate, options.WeightDecay, RandomStreams.Key(options.Seed, "zoo.pretrain_head_init"), maskId, firstOrdinaryId: 5);
        var curve = new List<double>();
        for (int epoch = 0; epoch < options.PretrainEpochs; epoch++)
        {
            int e = epoch;
            double loss = pretrain.TrainEpoch(pretrainIds, T, options.BatchSize, RandomStreams.Key(options.Seed, "zoo.pretrain_epoch", epoch), (batches, mean) =>
            {
                curve.Add(Math.Round(mean, 4));
                log($"pretrain epoch {e + 1} batch {batches}: masked-token cross-entropy {mean:F4} [{clock.Elapsed.TotalSeconds:F1} s]");
            }, options.LossLogInterval);
            log($"pretrain epoch {epoch + 1}/{options.PretrainEpochs}: mean masked-token cross-entropy {loss:F4} [{clock.Elapsed.TotalSeconds:F1} s]");
        }
        var baseValues = (float[])model.Parameters.Values.Clone();
        ZooFiles.SaveEncoder(model.Parameters, Prefix, Path.Combine(directory, "base.safetensors"), null);
        File.WriteAllText(Path.Combine(directory, "config.json"), ConfigJson(cfg));
        // The model's own files say how it reads text (sequence length, lower-casing) and pools it, as Hugging Face and
        // sentence-transformers lay them out; the family's architecture is read from them.
        new TextSettings(T, options.Pooling, Path.Combine(directory, "vocab.txt"), LowerCase: true).Write(directory, cfg.HiddenSize);

        // 3. Per task: linear probe on the base, then the encoder fine-tuned with a fresh head.
        var encoder = new TextDenseEncoder(model, T, options.Pooling);
        var tasks = new List<ZooTask>();
        var heads = new List<TaskHead>();
        var taskValues = new List<float[]>();
        var validation = new List<TaskDataset>();
        var test = new List<TaskDataset>();
        for (int t = 0; t < specs.Count; t++)
        {
            var spec = specs[t];
            var (trainTexts, valTexts, testTexts) = splits[t];
            var train = ToDataset(tokenizer, spec, trainTexts, T);
            var val = ToDataset(tokenizer, spec, valTexts, T);
            var tst = ToDataset(tokenizer, spec, testTexts, T);
            validation.Add(val); test.Add(tst);
            baseValues.CopyTo(model.Parameters.Values, 0);
            var (lpW, lpB) = VisionTrainer.LinearProbe(Embed(encoder, train), train.RequireLabels(), train.ClassCount);
            var probe = new TaskHead(lpW, lpB, train.ClassCount, model.EmbeddingSize);
            double lpVal = Accuracy(encoder, probe, val), lpTest = Accuracy(encoder, probe, tst);
            var w = new float[train.ClassCount * model.EmbeddingSize]; var b = new float[train.ClassCount];
            RandomStreams.Create(options.Seed, "zoo.head_init", t).FillGaussian(w, 0.02f);
            var head = new TaskHead(w, b, train.ClassCount, model.EmbeddingSize);
            var ft = new VisionTrainer(encoder, w, b, trainEncoder: true, trainHead: true, options.FineTuneLearningRate, options.WeightDecay,
                headLearningRate: options.HeadLearningRate);
            // Keep the epoch with the best validation accuracy (the first on ties).
            var bestValues = (float[])baseValues.Clone();
            float[] bestW = (float[])w.Clone(), bestB = (float[])b.Clone();
            double ftVal = -1;
            for (int epoch = 0; epoch < options.FineTuneEpochs; epoch++)
            {
                double trainLoss = ft.TrainEpoch(train, options.BatchSize, RandomStreams.Key(options.Seed, "zoo.finetune_epoch", epoch, specs[t].Name));
                double acc = Accuracy(encoder, head, val);
                log($"  {spec.Name} epoch {epoch + 1}: train loss {trainLoss:F4}, validation {acc:P1} [{clock.Elapsed.TotalSeconds:F1} s]");
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
            var valFiles = ZooFiles.SaveTokenSplit(directory, spec.Name, "validation", val);
            var testFiles = ZooFiles.SaveTokenSplit(directory, spec.Name, "test", tst);
            tasks.Add(new ZooTask(spec.Name, spec.Description, spec.ClassNames, ckpt, train.Count, valFiles, testFiles,
                new ZooTaskAccuracy(baseVal, baseTest, lpVal, lpTest, ftVal, ftTest)));
            log($"{spec.Name}: base + its head {baseTest:P1}, base + linear probe {lpTest:P1} → fine-tuned {ftTest:P1} (test) [{clock.Elapsed.TotalSeconds:F1} s]");
        }

        // 4. Checks: weight averaging and task arithmetic (λ chosen on validation), Current protocol.
        var individual = tasks.Select(x => x.Accuracy!.FineTunedTest).ToArray();
        var checks = ZooChecks.NaiveMerges(encoder, baseValues, taskValues, heads, validation, test, individual, options.ScaleGrid, log);

        double seconds = clock.Elapsed.TotalSeconds;
        var manifest = new ZooManifest("text", "bert", "config.json", "base.safetensors",
            $"WordPiece token ids (vocab.txt, lower-cased, accents stripped): [CLS] text [SEP], truncated and padded with [PAD] = 0 to {T}",
            tasks,
            new ZooBuildInfo(options.Seed,
                "masked-language modelling (15 % of the real tokens chosen; 80 % [MASK], 10 % random, 10 % kept; tied decoder) on train-pool texts (WordNet definitions and examples, fortunes), no task labels",
                nPre, options.PretrainEpochs, options.FineTuneEpochs,
                string.Create(CultureInfo.InvariantCulture, $"AdamW (wd {options.WeightDecay}), batch {options.BatchSize}, pretrain lr {options.PretrainLearningRate}, fine-tune lr {options.FineTuneLearningRate}; heads trained with the encoder from N(0, 0.02²), head lr {options.HeadLearningRate}; linear probe = 300 full-batch AdamW steps on frozen base features; the fine-tuning epoch with the best validation accuracy is kept; pretrain_loss = mean masked-token cross-entropy per {options.LossLogInterval} batches; checks use the Current protocol, λ chosen on validation"),
                curve),
            checks, "vocab.txt", T, options.Pooling.ToString().ToLowerInvariant());
        manifest.Save(directory);
        ZooChecksums.Write(directory, ZooChecksums.ThisBuild(manifest.Name));
        log($"built in {seconds:F1} s ({Environment.ProcessorCount} threads, {MLNetMerge.Tensors.InstructionSet.Current}); checksums in {ZooChecksums.FileName}");
        return manifest;
    }

    /// <summary>Token ids (N, T) of <paramref name="texts"/>: <c>[CLS] text [SEP]</c> truncated and padded to T.</summary>
    public static int[] Tokenize(WordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int tokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new int[texts.Count * tokens];                          // (N, T)
        for (int i = 0; i < texts.Count; i++)
        {
            var enc = tokenizer.Encode(texts[i]);
            if (enc.Length != tokens) throw new InvalidOperationException($"text {i} encoded to {enc.Length} tokens; expected {tokens} (padding length).");
            enc.Ids.CopyTo(ids, i * tokens);
        }
        return ids;
    }

    /// <summary>A task's texts as a dataset of token ids stored as floats (N, T).</summary>
    public static TaskDataset ToDataset(WordPieceTokenizer tokenizer, TextTaskSpec spec, LabeledTexts texts, int tokens)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(texts);
        var ids = Tokenize(tokenizer, texts.Texts, tokens);
        return new TaskDataset(spec.Name, ids.Select(i => (float)i).ToArray(), [tokens], texts.Labels, spec.ClassNames);
    }

    /// <summary>Embeddings (N, E) of a dataset.</summary>
    public static float[] Embed(IDenseEncoder encoder, TaskDataset data, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(data);
        return EncoderInference.Embed(encoder, data.Features, data.Count, batchSize);
    }

    /// <summary>Share of correct arg-max predictions of encoder + head on a labeled dataset (<see cref="ZooChecks.Accuracy"/>).</summary>
    public static double Accuracy(IDenseEncoder encoder, TaskHead head, TaskDataset data) => ZooChecks.Accuracy(encoder, head, data);

    /// <summary>The Hugging Face <c>config.json</c> of a BERT text encoder (the text zoo's and the MiniLM family's), with
    /// <c>_name_or_path</c> after <c>architectures</c> when the model has a published name.</summary>
    internal static string ConfigJson(TextEncoderConfig c, string? nameOrPath = null)
    {
        var json = new Dictionary<string, object> { ["model_type"] = "bert", ["architectures"] = new[] { "BertForSequenceClassification" } };
        if (nameOrPath is not null) json["_name_or_path"] = nameOrPath;
        json["vocab_size"] = c.VocabSize; json["hidden_size"] = c.HiddenSize; json["num_hidden_layers"] = c.NumLayers; json["num_attention_heads"] = c.NumHeads;
        json["intermediate_size"] = c.IntermediateSize; json["hidden_act"] = "gelu"; json["layer_norm_eps"] = c.LayerNormEps;
        json["max_position_embeddings"] = c.MaxPositions; json["type_vocab_size"] = c.TypeVocabSize; json["pad_token_id"] = c.PadTokenId;
        return JsonSerializer.Serialize(json, MLNetMerge.Data.JsonText.Indented);
    }
}
