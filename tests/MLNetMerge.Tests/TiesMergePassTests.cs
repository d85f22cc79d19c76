using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// TIES into a sink that rewrites what it wrote merges in the trim's second pass (<see cref="DeferredDisjointMerge"/>) and
/// settles the elements it could not settle after it: the same bits, thresholds and majority sign as the three-pass merge a
/// sink without rewrites gets — with thresholds in bucket 0, undecided elements (s = 0 with kept values), a majority of −1,
/// unequal and zero weights, slices, DARE's drop, the undecided elements over their bound (the merge then runs again), and files.
/// </summary>
[TestClass]
public sealed class TiesMergePassTests
{
    /// <summary>Hides <see cref="IMergeSink.RewritesModel"/> (and so forces the three-pass merge).</summary>
    internal sealed class WithoutRewrites(IMergeSink inner) : IMergeSink
    {
        public void Begin(MergeLayout layout) => inner.Begin(layout);
        public void WriteModel(string name, ReadOnlySpan<float> values) => inner.WriteModel(name, values);
        public bool AcceptsSlices => inner.AcceptsSlices;
        public void WriteModelSlice(string name, long start, ReadOnlySpan<float> values) => inner.WriteModelSlice(name, start, values);
        public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) => inner.WriteModelRaw(name, bytes);
        public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) => inner.WriteHeadRaw(task, name, bytes);
        public IModulatorWriter Modulators => inner.Modulators;
        public void WriteTask(string task, string name, ReadOnlySpan<float> values) => inner.WriteTask(task, name, values);
        public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) => inner.WriteTaskRaw(task, name, bytes);
        public void Complete(MergeSummary summary) => inner.Complete(summary);
    }

    internal sealed class Stages : IProgress<MergeProgress>
    {
        public HashSet<string> Seen { get; } = [];
        public void Report(MergeProgress value) { lock (Seen) Seen.Add(value.Stage); }
    }

    internal static (MergedModel Model, Stages Stages) Merge(ModelFamily family, MergeParameters p, MergeExecutionOptions options, bool rewrites)
    {
        var stages = new Stages();
        var memory = new InMemoryMergeSink();
        MergeExecutor.Run(family, p.Method, p, rewrites ? memory : new WithoutRewrites(memory), options, stages);
        return (memory.Result!, stages);
    }

    /// <summary>Both merges: equal bits, thresholds and majority sign; the two-pass one has no second pass before the merge.</summary>
    private static MergedModel AssertSameAsThreePasses(TinyFamily f, MergeParameters p, MergeExecutionOptions options, string what)
    {
        using var family = f.Build();
        var (three, threeStages) = Merge(family, p, options, rewrites: false);
        var (two, twoStages) = Merge(family, p, options, rewrites: true);
        Assert.Contains("pass 2/2", threeStages.Seen, what);
        Assert.IsFalse(twoStages.Seen.Any(s => s.StartsWith("pass 2", StringComparison.Ordinal)), $"{what}: {string.Join(", ", twoStages.Seen)}");
        foreach (var (name, expected) in three.Tensors)
            CollectionAssert.AreEqual(MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), MemoryMarshal.AsBytes(two.Tensors[name].AsSpan()).ToArray(), $"{what}: {name}");
        Assert.AreEqual(three.Summary.Notes["trim_thresholds"], two.Summary.Notes["trim_thresholds"], what);
        Assert.AreEqual(three.Summary.Notes["majority_sign"], two.Summary.Notes["majority_sign"], what);
        return two;
    }

    internal static TinyFamily RandomFamily(int tasks, float zeroShare = 0f, ulong seed = 1)
    {
        var names = Enumerable.Range(0, tasks).Select(t => $"t{t}").ToArray();
        var f = new TinyFamily(names);
        var rng = new Random((int)seed);
        foreach (var (name, n) in new[] { ("blocks.0.w", 1000), ("blocks.0.b", 37), ("blocks.1.w", 4096) })
        {
            var taus = Enumerable.Range(0, tasks).Select(t =>
            {
                var tau = Random(n, seed * 100 + (ulong)(t * 7 + n), 0.05f);
                for (int i = 0; i < n; i++) if (rng.NextDouble() < zeroShare) tau[i] = 0f;
                return tau;
            }).ToArray();
            f.WithTaskVectors(name, [n], Random(n, seed + (ulong)n), taus);
        }
        return f;
    }

    [TestMethod]
    [DataRow("mean", 1, 0)]
    [DataRow("mean", 2, 64)]
    [DataRow("sum", 2, 0)]
    [DataRow("sum", 1, 100)]
    public void MergesInTheSecondPassWithTheSameBits(string merge, int threads, int slice)
    {
        var p = Parameters("ties", 4, P(("keep", 0.3), ("merge", merge)), P(("weight", 0.7)), P(("weight", 0.4)), null, P(("weight", 0.0)));
        AssertSameAsThreePasses(RandomFamily(4), p, new MergeExecutionOptions { MaxThreads = threads, SliceElements = slice }, $"{merge} {threads} {slice}");
    }

    [TestMethod]
    public void ThresholdsInBucketZero()
    {
        // Most τ are exactly zero and some subnormal below 2⁻¹³³ (upper 16 bits 0; θ0 = 0 keeps them): with keep 0.3 the threshold falls
        // among the zeros (threshold 0), with keep 0.21 among the subnormals of bucket 0, whose zeros the merge pass does
        // not keep.
        foreach (var (keep, zero) in new[] { (0.3, true), (0.21, false) })
        {
            var f = RandomFamily(3, 0.8f, seed: 5);
            f.WithTaskVectors("tiny", [300], new float[300], Enumerable.Range(0, 3).Select(t => Random(300, (ulong)(40 + t), 5e-41f)).ToArray());
            var merged = AssertSameAsThreePasses(f, Parameters("ties", 3, P(("keep", keep))), new MergeExecutionOptions { MaxThreads = 2 }, $"keep {keep}");
            foreach (var note in merged.Summary.Notes["trim_thresholds"].Split(", "))
            {
                float threshold = float.Parse(note.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
                Assert.IsTrue(zero ? threshold == 0 : threshold > 0 && BitConverter.SingleToUInt32Bits(threshold) >> 16 == 0, note);
            }
        }
    }

    /// <summary>Two tasks cancel exactly on the first half of every tensor (s = 0 with both kept); on the second half both
    /// are negative (or positive), which sets the majority sign.</summary>
    private static TinyFamily Cancelling(float sign)
    {
        var f = new TinyFamily("a", "b");
        foreach (var (name, n) in new[] { ("w", 2000), ("v", 517) })
        {
            var a = Random(n, (ulong)n, 0.05f);
            var b = new float[n];
            for (int i = 0; i < n; i++)
            {
                if (i < n / 2) { a[i] = MathF.Abs(a[i]) + 0.1f; b[i] = -a[i]; }
                else { a[i] = sign * (MathF.Abs(a[i]) + 0.02f); b[i] = sign * (MathF.Abs(a[(i * 7) % n]) + 0.03f); }
            }
            f.WithTaskVectors(name, [n], Random(n, 3), a, b);
        }
        return f;
    }

    [TestMethod]
    [DataRow(-1f, "-1")]
    [DataRow(1f, "+1")]
    public void UndecidedElementsTakeTheMajoritySign(float sign, string majority)
    {
        var merged = AssertSameAsThreePasses(Cancelling(sign), Parameters("ties", 2, P(("keep", 0.6))), new MergeExecutionOptions { MaxThreads = 2, SliceElements = 256 }, majority);
        Assert.AreEqual(majority, merged.Summary.Notes["majority_sign"]);
    }

    [TestMethod]
    [DataRow(-1f, true, 256)]
    [DataRow(-1f, true, 0)]
    [DataRow(1f, false, 256)]
    public void UndecidedElementsOverTheirBoundMergeAgainOnlyWhenThePlaceholderWasWrong(float sign, bool again, int slice)
    {
        // The bound left for undecided elements is what remains of the limit after the first pass's bucket counts: set the
        // limit to exactly those, so the first undecided element is dropped. With majority +1 the placeholders were right.
        var f = Cancelling(sign);
        var p = Parameters("ties", 2, P(("keep", 0.6)));
        long bound = 0;
        using (var family = f.Build())
        {
            var taus = Enumerable.Range(0, 2).Select(_ => new List<float>()).ToArray();
            foreach (var info in family.MergedTensors)
                for (int t = 0; t < 2; t++)
                {
                    var theta0 = new float[info.ElementCount];
                    var theta = new float[info.ElementCount];
                    family.Base.ReadFloat32(info, theta0);
                    family.Tasks[t].Reader.TryGetTensor(info.Name, out var ti);
                    family.Tasks[t].Reader.ReadFloat32(ti, theta);
                    taus[t].AddRange(theta.Select((x, i) => x - theta0[i]));
                }
            foreach (var tau in taus)
            {
                var h = new MagnitudeHistogram();
                h.AddCoarse(tau.ToArray());
                h.ResolveCoarse(Sparsification.ThresholdRank(tau.Count, 0.6));
                bound += h.BucketCount * (sizeof(int) + 3 * sizeof(float));
            }
        }
        GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = bound;
        TrimInterval.SampleEveryOverride.Value = 1; // the first pass reads everything, so the bound is the buckets' exactly
        try
        {
            using var family = f.Build();
            var options = new MergeExecutionOptions { MaxThreads = 2, SliceElements = slice };
            var (two, stages) = Merge(family, p, options, rewrites: true);
            var (three, _) = Merge(family, p, options, rewrites: false);
            Assert.AreEqual(again, stages.Seen.Contains("merge again"), string.Join(", ", stages.Seen));
            Assert.IsFalse(stages.Seen.Contains("pass 2/2"));
            foreach (var (name, expected) in three.Tensors)
                CollectionAssert.AreEqual(expected, two.Tensors[name], name);
        }
        finally
        {
            GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = null;
            TrimInterval.SampleEveryOverride.Value = null;
        }
    }

    [TestMethod]
    public void DareWithATrimMergesInTheSecondPassToo()
    {
        var p = Parameters("dare", 3, P(("keep", 0.5), ("drop", 0.3), ("merge", "ties")));
        AssertSameAsThreePasses(RandomFamily(3, seed: 11), p, new MergeExecutionOptions { MaxThreads = 2, Seed = 3 }, "dare ties");
    }

    [TestMethod]
    [DataRow("F32")]
    [DataRow("F16")]
    public void FilesAreTheSameBytes(string dtype)
    {
        var output = Enum.Parse<DType>(dtype);
        string root = Path.Combine(Path.GetTempPath(), "mlnm-tiespass-" + Guid.NewGuid().ToString("N"));
        try
        {
            byte[] Write(bool rewrites)
            {
                string dir = Path.Combine(root, rewrites.ToString());
                Directory.CreateDirectory(dir);
                using var family = RandomFamily(3, seed: 21).Build();
                var p = Parameters("ties", 3, P(("keep", 0.25)));
                using (var sink = new DirectoryMergeSink(dir, new Dictionary<string, string>()))
                    MergeExecutor.Run(family, p.Method, p, rewrites ? sink : new WithoutRewrites(sink),
                        new MergeExecutionOptions { MaxThreads = 2, SliceElements = 128, OutputDType = output });
                return File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
            }
            CollectionAssert.AreEqual(Write(false), Write(true));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
