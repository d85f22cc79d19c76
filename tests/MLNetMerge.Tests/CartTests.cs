using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class CartTests
{
    private const string Matrix = "model.layers.0.attn.weight"; // a 2-D weight inside a block: low-rank treated
    private const string Norm = "model.layers.0.norm.weight";   // a norm: keeps its full ct (ends at θavg)
    private const string Embed = "model.embed.weight";          // 2-D but an embedding: keeps its full ct

    /// <summary>A (3, 4) matrix with <paramref name="d"/> on its leading diagonal and <paramref name="fill"/> elsewhere.</summary>
    private static float[] Diag(float fill, params float[] d)
    {
        var x = Enumerable.Repeat(fill, 12).ToArray();
        for (int i = 0; i < d.Length; i++) x[i * 4 + i] += d[i];
        return x;
    }

    // Block matrix (3, 4): θ0 = 1, mean task vector 0.5 everywhere, centered vectors (they sum to 0)
    //   c1 = diag(4, 1, 0), c2 = diag(−1, 0, 2), c3 = diag(−3, −1, −2); τt = 0.5 + ct; θavg = 1.5 everywhere.
    // Norm [4]: θ0 = 0, τ1 = [3, 0, 0, 0], τ2 = [0, 3, 0, 0], τ3 = [0, 0, 3, 0] → θavg = [1, 1, 1, 0], c1 = [2, −1, −1, 0].
    private static TinyFamily Family() => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors(Matrix, [3, 4], Diag(1f), Diag(0.5f, 4, 1, 0), Diag(0.5f, -1, 0, 2), Diag(0.5f, -3, -1, -2))
        .WithTaskVectors(Norm, [4], [0f, 0f, 0f, 0f], [3f, 0f, 0f, 0f], [0f, 3f, 0f, 0f], [0f, 0f, 3f, 0f])
        .WithTaskVectors(Embed, [3, 4], Diag(1f), Diag(0.5f, 4, 1, 0), Diag(0.5f, -1, 0, 2), Diag(0.5f, -3, -1, -2));

    [TestMethod]
    public void RankOneSumsTopSingularComponents()
    {
        // r = max(1, ⌊0.34·min(3, 4)⌋) = 1. Best rank-1 approximations (top singular value of each diagonal):
        //   lowrank(c1) = 4 at (0,0); lowrank(c2) = 2 at (2,2); lowrank(c3) = −3 at (0,0).
        // Σ = 1 at (0,0), 2 at (2,2); λ = 2 (default): θ = 1.5 + 2·Σ → (0,0) = 3.5, (2,2) = 5.5, 1.5 elsewhere.
        var m = Run(Family(), "cart", P(("rank_ratio", 0.34)));
        AssertClose(Diag(1.5f, 2, 0, 4), m.Tensors[Matrix], 1e-4, "block matrix");
        AssertClose(Diag(1.5f), m.Tensors[Embed], 1e-6, "embedding stays at θavg");
        AssertClose([1f, 1f, 1f, 0f], m.Tensors[Norm], 1e-6, "norm stays at θavg");
    }

    [TestMethod]
    public void RankTwo()
    {
        // r = ⌊0.67·3⌋ = 2: lowrank(c1) = c1, lowrank(c2) = c2 (both rank 2), lowrank(c3) = diag(−3, 0, −2).
        // Σ = diag(0, 1, 0) → θ = 1.5 + 2·Σ: (1,1) = 3.5.
        var m = Run(Family(), "cart", P(("lowrank", 0.67)));
        AssertClose(Diag(1.5f, 0, 2, 0), m.Tensors[Matrix], 1e-4, "block matrix");
    }

    [TestMethod]
    public void IndexingGivesEachTaskItsOwnLowRankVector()
    {
        // θ̂t = θavg + λ lowrank_1(ct), λ = 2: θ̂1 (0,0) = 1.5 + 8 = 9.5; θ̂2 (2,2) = 1.5 + 4 = 5.5; θ̂3 (0,0) = 1.5 − 6 = −4.5.
        // Other tensors get their full ct: norm θ̂1 = [1, 1, 1, 0] + 2·[2, −1, −1, 0] = [5, −1, −1, 0].
        // The unified weights are θavg; modulators hold left (3, 1)·right (1, 4) = lowrank(ct), and delta = ct elsewhere.
        var m = Run(Family(), "cart_indexing", P(("rank_ratio", 0.34)));
        AssertClose(Diag(1.5f), m.Tensors[Matrix], 1e-6, "unified");
        AssertClose(Diag(1.5f, 8, 0, 0), m.TaskTensors["t1"][Matrix], 1e-4, "θ̂1");
        AssertClose(Diag(1.5f, 0, 0, 4), m.TaskTensors["t2"][Matrix], 1e-4, "θ̂2");
        AssertClose(Diag(1.5f, -6, 0, 0), m.TaskTensors["t3"][Matrix], 1e-4, "θ̂3");
        AssertClose([5f, -1f, -1f, 0f], m.TaskTensors["t1"][Norm], 1e-6, "θ̂1 norm");
        AssertClose([2f, -1f, -1f, 0f], m.Modulators[$"delta.t1.{Norm}"], 1e-6, "delta");
        var left = m.Modulators[$"lowrank.t1.{Matrix}.left"];
        var right = m.Modulators[$"lowrank.t1.{Matrix}.right"];
        Assert.AreEqual(3, left.Length);
        Assert.AreEqual(4, right.Length);
        var product = new float[12];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) product[i * 4 + j] = left[i] * right[j];
        AssertClose(Diag(0f, 4, 0, 0), product, 1e-4, "left·right");
    }

    private static TinyFamily RandomFamily()
    {
        var f = new TinyFamily("t1", "t2", "t3");
        void Add(string name, int[] shape, ulong seed)
        {
            int n = shape.Aggregate(1, (a, d) => a * d);
            f.WithWeights(name, shape, Random(n, seed), Random(n, seed + 1), Random(n, seed + 2), Random(n, seed + 3));
        }
        Add("model.layers.0.attn.q_proj.weight", [6, 4], 10);
        Add("model.layers.0.mlp.fc1.weight", [4, 7], 20);
        Add("model.layers.1.mlp.fc2.weight", [5, 5], 30);
        Add("model.layers.1.mlp.fc2.bias", [5], 40);
        Add("model.layers.0.norm.weight", [4], 50);
        Add("model.embed_tokens.weight", [9, 4], 60);
        return f;
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.0)]
    public void RankRatioZeroAndOneEqualWeightAveraging(double ratio)
    {
        // r = 0 adds nothing; full rank adds λ Σ ct = 0. Either way θ = θavg = (1/T) Σ θt.
        var f = RandomFamily();
        var cart = Run(f, "cart", P(("rank_ratio", ratio)));
        var avg = Run(f, "weight_average");
        foreach (var (name, values) in avg.Tensors)
            AssertClose(values, cart.Tensors[name], 1e-6, name);
    }

    [TestMethod]
    public void TwoTasksAtAnyRankEqualWeightAveraging()
    {
        // With T = 2, c2 = θ2 − θavg = −c1. The sketch seed is shared by the tasks, so the randomized SVD gives
        // lowrank(c2) = −lowrank(c1) and θ = θavg + λ (lowrank(c1) + lowrank(c2)) = θavg at every rank. In float32 the
        // centering gives c2 = −c1 only up to rounding (~3e-8 here), which the default 14 subspace iterations carry to
        // ~1e-6 in the sum on this random matrix (8 iterations: below 1e-6); unshared sketches would differ by ~1e-1.
        var rng = new Random(7);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var f = new TinyFamily("t1", "t2").WithWeights("model.layers.0.mlp.weight", [24, 40], R(960), R(960), R(960));
        var cart = Run(f, "cart", P(("rank_ratio", 0.25)));
        var avg = Run(f, "weight_average");
        AssertClose(avg.Tensors["model.layers.0.mlp.weight"], cart.Tensors["model.layers.0.mlp.weight"], 4e-6);
    }

    [TestMethod]
    public void IntermediateRankMovesOnlyBlockMatrices()
    {
        // ratio 0.5: the (6, 4) block matrix gets r = 2 < 4, so λ Σ lowrank_2(ct) ≠ 0 moves it off θavg (random ct have
        // no rank-2 structure); the bias, the norm and the embedding keep their full ct and stay at θavg.
        var f = RandomFamily();
        var cart = Run(f, "cart", P(("rank_ratio", 0.5)));
        var avg = Run(f, "weight_average");
        AssertClose(avg.Tensors["model.layers.0.norm.weight"], cart.Tensors["model.layers.0.norm.weight"], 1e-6, "norm");
        AssertClose(avg.Tensors["model.layers.1.mlp.fc2.bias"], cart.Tensors["model.layers.1.mlp.fc2.bias"], 1e-6, "bias");
        AssertClose(avg.Tensors["model.embed_tokens.weight"], cart.Tensors["model.embed_tokens.weight"], 1e-6, "embedding");
        var q = cart.Tensors["model.layers.0.attn.q_proj.weight"];
        var qa = avg.Tensors["model.layers.0.attn.q_proj.weight"];
        Assert.IsTrue(q.Zip(qa, (x, y) => Math.Abs(x - y)).Max() > 1e-3, "rank 2 of 4 should move the block matrix off θavg");
    }
}
