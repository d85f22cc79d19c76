using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Tinting's filter, gradients (against central finite differences), clamp and schedule.</summary>
[TestClass]
internal sealed class TintingTrainerTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Filter_DropsOnlyDisagreeingSamplesWhereTheMergedModelIsMoreConfident()
    {
        float[] merged =
        [
            0.7f, 0.2f, 0.1f,   // s0: merged says 0 (0.7), individual says 1 (0.6): disagree, merged more confident → drop
            0.2f, 0.5f, 0.3f,   // s1: merged 1 (0.5), individual 0 (0.8): disagree, individual more confident → keep
            0.9f, 0.05f, 0.05f, // s2: both say 0, merged more confident (0.9 > 0.6): agree → keep (paper's text: drop)
            0.5f, 0.3f, 0.2f,   // s3: both say 0, individual more confident (0.5 < 0.8) → keep
            0.6f, 0.4f, 0f,     // s4: merged 0 (0.6), individual 1 (0.6): disagree, equally confident (not strictly more) → keep
        ];
        float[] individual =
        [
            0.1f, 0.6f, 0.3f,
            0.8f, 0.1f, 0.1f,
            0.6f, 0.3f, 0.1f,
            0.8f, 0.1f, 0.1f,
            0.4f, 0.6f, 0f,
        ];
        var keep = new bool[5];
        Assert.AreEqual(4, TintingSampleFilter.Apply(keep, merged, individual, 5, 3, TintingFilterRule.DisagreeAndMoreConfident));
        CollectionAssert.AreEqual(new[] { false, true, true, true, true }, keep);
        Assert.AreEqual(3, TintingSampleFilter.Apply(keep, merged, individual, 5, 3, TintingFilterRule.MoreConfident));
        CollectionAssert.AreEqual(new[] { false, true, false, true, true }, keep);
        Assert.AreEqual(5, TintingSampleFilter.Apply(keep, merged, individual, 5, 3, TintingFilterRule.None));
        CollectionAssert.AreEqual(new[] { true, true, true, true, true }, keep);
    }

    /// <summary>Two tasks (K = 3 and 4) over the tiny ViT, a batch of 5 random images and random individual logits.</summary>
    private static (TintingTrainer Trainer, float[] X, float[][] Individual) Make(int block, TintingLossKind loss, TintingFilterRule filter, int seed = 3)
    {
        var cfg = VisionTransformerConfig.FromJson(JsonDocument.Parse(TinyVitFamily.ConfigJson).RootElement);
        var vit = new VisionTransformer(cfg);
        int p = vit.Parameters.Layout.TotalLength;
        var rng = new Random(seed);
        float U(double a) => (float)((rng.NextDouble() * 2 - 1) * a);
        var theta0 = new float[p];
        foreach (var e in vit.Parameters.Layout.Entries)
            for (int i = 0; i < e.Length; i++) theta0[e.Offset + i] = e.Name.Contains("layernorm") && e.Name.EndsWith(".weight", StringComparison.Ordinal) ? 1 + U(0.2) : U(0.5);
        var taus = new[] { Enumerable.Range(0, p).Select(_ => U(0.3)).ToArray(), Enumerable.Range(0, p).Select(_ => U(0.3)).ToArray() };
        int[] k = [3, 4];
        var heads = k.Select(kk => new TaskHead(Enumerable.Range(0, kk * 8).Select(_ => U(1)).ToArray(), Enumerable.Range(0, kk).Select(_ => U(0.2)).ToArray(), kk, 8)).ToArray();
        var tr = new TintingTrainer(vit, theta0, taus, heads, new TintingTrainerSettings { Block = block, Loss = loss, Filter = filter });
        // Coefficients inside (0.1, 0.9), away from the clamp's kinks, so central differences see a smooth function.
        for (int i = 0; i < tr.Merge.Coefficients.Length; i++) tr.Merge.Coefficients[i] = 0.1f + (float)rng.NextDouble() * 0.8f;
        var x = Enumerable.Range(0, 5 * 16).Select(_ => U(1)).ToArray();
        var ind = k.Select(kk => Enumerable.Range(0, 5 * kk).Select(_ => U(2)).ToArray()).ToArray();
        return (tr, x, ind);
    }

    /// <summary>Central difference (L(v + h) − L(v − h)) / 2h of the loss in one parameter reached through <paramref name="slot"/>.</summary>
    private static double Central(TintingTrainer tr, int task, float[] x, float[] ind, Func<Span<float>> slot, int index, float h)
    {
        float v = slot()[index];
        slot()[index] = v + h; double up = tr.Loss(task, x, 5, ind).Loss;
        slot()[index] = v - h; double down = tr.Loss(task, x, 5, ind).Loss;
        slot()[index] = v;
        return (up - down) / (2 * h);
    }

    private void AssertClose(string what, IReadOnlyList<double> analytic, IReadOnlyList<double> numeric, double tolerance)
    {
        double num = 0, den = 0;
        for (int i = 0; i < analytic.Count; i++) { num += Math.Pow(analytic[i] - numeric[i], 2); den += numeric[i] * numeric[i]; }
        double rel = Math.Sqrt(num / den);
        TestContext.WriteLine($"{what}: {analytic.Count} entries, ‖g − g_fd‖/‖g_fd‖ = {rel:E2}, ‖g_fd‖ = {Math.Sqrt(den):E2}");
        Assert.IsTrue(den > 1e-8, $"{what}: the finite differences are all ~0; the check would be vacuous");
        Assert.IsTrue(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E1}");
    }

    [TestMethod]
    [DataRow(TintingLossKind.Hard)]
    [DataRow(TintingLossKind.Soft)]
    [DataRow(TintingLossKind.Mse)]
    public void CoefficientAndHeadGradients_MatchCentralDifferences(TintingLossKind loss)
    {
        var (tr, x, ind) = Make(-1, loss, TintingFilterRule.None);
        for (int task = 0; task < 2; task++)
        {
            tr.ComputeGradients(task, x, 5, ind[task]);
            var coef = tr.Merge.CoefficientGradients.Select(v => (double)v).ToArray();
            var head = tr.HeadGradient(task).ToArray().Select(v => (double)v).ToArray();
            var coefFd = Enumerable.Range(0, coef.Length).Select(i => Central(tr, task, x, ind[task], () => tr.Merge.Coefficients, i, 4e-3f)).ToArray();
            var headFd = Enumerable.Range(0, head.Length).Select(i => Central(tr, task, x, ind[task], () => tr.Head(task), i, 4e-3f)).ToArray();
            AssertClose($"{loss} task {task} coefficients", coef, coefFd, 2e-3);
            AssertClose($"{loss} task {task} head", head, headFd, 1e-3);
        }
    }

    [TestMethod]
    public void BlockGradients_MatchCentralDifferences_AndTheBlocksCoefficientsGetNone()
    {
        var (tr, x, ind) = Make(1, TintingLossKind.Hard, TintingFilterRule.None);
        Assert.IsTrue(tr.TrainsBlock);
        var layout = new VisionTransformer(VisionTransformerConfig.FromJson(JsonDocument.Parse(TinyVitFamily.ConfigJson).RootElement)).Parameters.Layout;
        Assert.IsTrue(tr.BlockEntries.All(l => layout.Entries[l].Name.StartsWith("encoder.layer.1.", StringComparison.Ordinal)));
        Assert.AreEqual(16, tr.BlockEntries.Count, "a ViT block has 16 tensors (2 norms × 2, q/k/v/o × 2, fc1/fc2 × 2)");
        // Make the two tasks' blocks differ, so that the test would see a wrong swap.
        var rng = new Random(9);
        for (int i = 0; i < tr.BlockValues(1).Length; i++) tr.BlockValues(1)[i] += (float)(rng.NextDouble() - 0.5) * 0.2f;
        int l = tr.Merge.TensorCount;
        for (int task = 0; task < 2; task++)
        {
            tr.ComputeGradients(task, x, 5, ind[task]);
            var coef = tr.Merge.CoefficientGradients.Select(v => (double)v).ToArray();
            foreach (int b in tr.BlockEntries)
                for (int t = 0; t < 2; t++) Assert.AreEqual(0.0, coef[t * l + b], "the merged block does not feed any task");
            var block = tr.BlockGradient(task).ToArray().Select(v => (double)v).ToArray();
            var pick = Enumerable.Range(0, block.Length).Where(i => i % 7 == 0).ToArray();  // every 7th of the block's values
            var blockFd = pick.Select(i => Central(tr, task, x, ind[task], () => tr.BlockValues(task), i, 4e-3f)).ToArray();
            AssertClose($"block task {task}", pick.Select(i => block[i]).ToArray(), blockFd, 2e-3);
            var shared = Enumerable.Range(0, 2 * l).Where(i => !tr.BlockEntries.Contains(i % l)).ToArray();
            var coefFd = shared.Select(i => Central(tr, task, x, ind[task], () => tr.Merge.Coefficients, i, 4e-3f)).ToArray();
            AssertClose($"block-mode coefficients task {task}", shared.Select(i => coef[i]).ToArray(), coefFd, 2e-3);
        }
    }

    [TestMethod]
    public void ClampBlocksGradientsOutsideTheUnitInterval()
    {
        var (tr, x, ind) = Make(-1, TintingLossKind.Hard, TintingFilterRule.None);
        int l = tr.Merge.TensorCount;
        tr.Merge.Coefficients[3] = -0.2f;      // task 0, tensor 3: clamped to 0
        tr.Merge.Coefficients[l + 5] = 1.3f;   // task 1, tensor 5: clamped to 1
        tr.ComputeGradients(0, x, 5, ind[0]);
        Assert.AreEqual(0f, tr.Merge.CoefficientGradients[3]);
        Assert.AreEqual(0f, tr.Merge.CoefficientGradients[l + 5]);
        Assert.AreNotEqual(0f, tr.Merge.CoefficientGradients[4], "an unclamped neighbour has a gradient");
        float before = tr.Loss(0, x, 5, ind[0]).Loss;
        tr.Merge.Coefficients[3] = -0.7f; tr.Merge.Coefficients[l + 5] = 2f; // further outside: same clamped model
        Assert.AreEqual(before, tr.Loss(0, x, 5, ind[0]).Loss, "moving a clamped coefficient outside [0, 1] changes nothing");
        tr.Merge.Coefficients[3] = 0.25f;
        Assert.AreNotEqual(before, tr.Loss(0, x, 5, ind[0]).Loss, "moving it inside does");
    }

    [TestMethod]
    public void FilteredStep_EqualsAStepOnTheKeptSamplesOnly()
    {
        // Merged probabilities first, then individual logits built so that samples 0 and 3 disagree with a near-uniform
        // individual (merged more confident → dropped) and the others disagree with a confident individual (kept).
        var (tr, x, _) = Make(-1, TintingLossKind.Hard, TintingFilterRule.DisagreeAndMoreConfident);
        int k = 3;
        var mergedTop = MergedArgmax(tr, x, k);
        var ind = new float[5 * k];
        for (int i = 0; i < 5; i++)
        {
            int other = (mergedTop[i] + 1) % k;
            if (i is 0 or 3) ind[i * k + other] = 1e-3f;                 // top-1 ≈ 1/3 + ε, below any merged top-1 > 1/3
            else ind[i * k + other] = 20f;                               // top-1 ≈ 1
        }
        var r = tr.ComputeGradients(0, x, 5, ind);
        Assert.AreEqual(3, r.Kept);
        var filtered = tr.Merge.CoefficientGradients.ToArray();
        var (tr2, _, _) = Make(-1, TintingLossKind.Hard, TintingFilterRule.None);
        int len = 16;
        int[] keptRows = [1, 2, 4];
        var xs = keptRows.SelectMany(i => x.Skip(i * len).Take(len)).ToArray();
        var ys = keptRows.SelectMany(i => ind.Skip(i * k).Take(k)).ToArray();
        var r2 = tr2.ComputeGradients(0, xs, 3, ys);
        Assert.AreEqual(r2.Loss, r.Loss, 1e-6f);
        double maxDiff = filtered.Zip(tr2.Merge.CoefficientGradients, (a, b) => Math.Abs(a - b)).Max();
        double scale = filtered.Max(Math.Abs);
        TestContext.WriteLine($"filtered vs subset: loss {r.Loss:F6} / {r2.Loss:F6}, max |Δg| = {maxDiff:E2} of max |g| = {scale:E2}");
        Assert.IsTrue(scale > 0 && maxDiff <= 1e-5 * Math.Max(1, scale));
    }

    /// <summary>The merged model's predicted class per sample for task 0, from a separate encoder holding the merged weights.</summary>
    private static int[] MergedArgmax(TintingTrainer tr, float[] x, int k)
    {
        var cfg = VisionTransformerConfig.FromJson(JsonDocument.Parse(TinyVitFamily.ConfigJson).RootElement);
        var vit = new VisionTransformer(cfg);
        tr.MergedValues().CopyTo(vit.Parameters.Values, 0);
        vit.Forward(x, 5);
        var head = tr.Head(0);
        var logits = new TaskHead(head[..(k * 8)].ToArray(), head[(k * 8)..].ToArray(), k, 8).Logits(vit.Embedding(5), 5);
        return Enumerable.Range(0, 5).Select(i => TintingSampleFilter.Top1(logits.AsSpan(i * k, k)).Index).ToArray();
    }

    [TestMethod]
    public void TaskOrder_IsADeterministicPermutationPerSeed()
    {
        var a = Enumerable.Range(0, 20).Select(r => TintingSchedule.TaskOrder(7, r, 8)).ToArray();
        var b = Enumerable.Range(0, 20).Select(r => TintingSchedule.TaskOrder(7, r, 8)).ToArray();
        var c = Enumerable.Range(0, 20).Select(r => TintingSchedule.TaskOrder(8, r, 8)).ToArray();
        for (int r = 0; r < 20; r++)
        {
            CollectionAssert.AreEqual(a[r], b[r], "same seed, same round → same order");
            CollectionAssert.AreEquivalent(Enumerable.Range(0, 8).ToArray(), a[r], "every task exactly once");
        }
        Assert.IsTrue(a.Select(o => string.Join(",", o)).Distinct().Count() >= 15, "rounds reshuffle (8! orders, 20 rounds)");
        Assert.IsTrue(Enumerable.Range(0, 20).Any(r => !a[r].SequenceEqual(c[r])), "another seed gives another schedule");
        // Batches: passes cover every example once, in a seeded order.
        var batches = new TintingBatches(7, 2, 10);
        var pass = new List<int>();
        pass.AddRange(batches.Next(4).ToArray()); pass.AddRange(batches.Next(4).ToArray());
        var last = batches.Next(4).ToArray();
        Assert.AreEqual(2, last.Length, "the pass ends with a short batch");
        pass.AddRange(last);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).ToArray(), pass);
        CollectionAssert.AreEqual(TintingSchedule.ExampleOrder(7, 2, 0, 10), pass.ToArray());
    }
}
