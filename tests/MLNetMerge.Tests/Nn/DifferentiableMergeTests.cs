using MLNetMerge.Checkpoints;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Tests.Nn;

/// <summary>Coefficient gradients of a layer-wise merge of a ViT against torch autograd.</summary>
[TestClass]
public sealed class DifferentiableMergeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void CoefficientGradients_MatchTorchAutograd_WithClamp()
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
        using var baseReader = EngineReference.Weights("vit");
        var model = VisionTransformer.Load(cfg, baseReader);
        var arena = model.Parameters;
        var baseValues = (float[])arena.Values.Clone();
        using var taskReader = SafetensorsReader.Open(Path.Combine(EngineReference.Dir, "merge_vit.tasks.safetensors"));
        Assert.AreEqual(Tensors.DType.F16, taskReader.Tensors[0].DType, "task vectors are stored as float16 and converted at the boundary");
        var tasks = new float[2][];
        for (int t = 0; t < 2; t++)
        {
            tasks[t] = new float[arena.Layout.TotalLength];
            foreach (var e in arena.Layout.Entries)
            {
                taskReader.TryGetTensor($"task{t}.{e.Name}", out var info);
                taskReader.ReadFloat32(info, tasks[t].AsSpan(e.Offset, e.Length));
            }
        }
        var io = EngineReference.Io("merge_vit");
        var merge = new DifferentiableMerge(arena, baseValues, tasks, clampToUnitInterval: true);
        int L = merge.TensorCount;
        for (int l = 0; l < L; l++)
        {
            var lam = io["lambda." + arena.Layout.Entries[l].Name];
            merge.Coefficients[l] = lam[0];
            merge.Coefficients[L + l] = lam[1];
        }
        merge.Materialize();
        model.Forward(io["input"], 2);
        double emb = EngineReference.MaxAbsDiff(model.Embedding(2), io["embedding"]);
        double hid = EngineReference.MaxAbsDiff(model.Hidden(2), io["hidden"]);
        arena.ZeroGrad();
        model.Backward(io["dhidden"], io["dembedding"], 2);
        merge.ZeroCoefficientGradients();
        merge.AccumulateCoefficientGradients();
        var ours = new float[2 * L];
        var reference = new float[2 * L];
        int clampedZero = 0;
        for (int l = 0; l < L; l++)
        {
            var g = io["grad.lambda." + arena.Layout.Entries[l].Name];
            for (int t = 0; t < 2; t++)
            {
                ours[t * L + l] = merge.CoefficientGradients[t * L + l];
                reference[t * L + l] = g[t];
                if (g[t] == 0f) { clampedZero++; Assert.AreEqual(0f, merge.CoefficientGradients[t * L + l], "clamped coefficient has no gradient"); }
            }
        }
        Assert.AreEqual(2, clampedZero, "the fixture clamps two coefficients");
        double rel = EngineReference.RelativeError(ours, reference);
        double worstEach = 0;
        for (int i = 0; i < ours.Length; i++)
            if (reference[i] != 0f) worstEach = Math.Max(worstEach, Math.Abs(ours[i] - reference[i]) / Math.Max(Math.Abs(reference[i]), 1e-3));
        TestContext.WriteLine($"merge_vit: forward max |Δhidden| = {hid:E2}, |Δembedding| = {emb:E2}; coefficient gradients ‖g − g_ref‖/‖g_ref‖ = {rel:E2}, worst single (floor 1e-3) {worstEach:E2}");
        Assert.IsTrue(hid <= 1e-4 && emb <= 1e-4, $"forward errors {hid:E3}, {emb:E3}");
        Assert.IsTrue(rel <= 2e-3, $"coefficient gradient relative error {rel:E3}");
    }

    [TestMethod]
    public void ReadTaskVectors_SubtractsTheBase_ThroughTheArchitecturesLoader()
    {
        // A "fine-tuned" copy of the ViT fixture (saved with the vit. prefix, as ViTForImageClassification does) whose
        // layernorm.bias is the base's + 0.5: its task vector is 0.5 there and 0 everywhere else.
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
        using var baseReader = EngineReference.Weights("vit");
        var model = VisionTransformer.Load(cfg, baseReader);
        var tuned = EngineReference.Copy(baseReader, "tuned", t => ("vit." + t.Name, t.Shape));
        var edited = new InMemoryCheckpoint("tuned");
        foreach (var t in tuned.Tensors)
        {
            var v = new float[t.ElementCount];
            tuned.ReadFloat32(t, v);
            if (t.Name == "vit.layernorm.bias") for (int i = 0; i < v.Length; i++) v[i] += 0.5f;
            edited.Add(t.Name, t.Shape, v);
        }
        var (theta0, taus) = DifferentiableMerge.ReadTaskVectors(model.Parameters, model.Load, baseReader, [edited]);
        var entry = model.Parameters.Layout.Entries[model.Parameters.Layout.IndexOf("layernorm.bias")];
        for (int i = 0; i < taus[0].Length; i++)
            Assert.AreEqual(i >= entry.Offset && i < entry.Offset + entry.Length ? 0.5f : 0f, taus[0][i], 1e-6f);
        CollectionAssert.AreEqual(theta0, model.Parameters.Values);
    }

    [TestMethod]
    public void Materialize_IsBasePlusWeightedTaskVectors()
    {
        // One tensor of 2 values: θ0 = [1, 2], τ1 = [1, 0], τ2 = [0, 4], λ = (0.5, 0.25) → θ = [1.5, 3].
        var layout = new ParameterLayout();
        layout.Add("w", 2);
        var arena = new ParameterArena(layout);
        var merge = new DifferentiableMerge(arena, [1, 2], [[1, 0], [0, 4]], clampToUnitInterval: false);
        merge.Coefficients[0] = 0.5f;
        merge.Coefficients[1] = 0.25f;
        merge.Materialize();
        CollectionAssert.AreEqual(new[] { 1.5f, 3f }, arena.Values);
        // With gradient [2, 1]: ∂L/∂λ1 = ⟨[2, 1], [1, 0]⟩ = 2, ∂L/∂λ2 = ⟨[2, 1], [0, 4]⟩ = 4.
        arena.Gradients[0] = 2; arena.Gradients[1] = 1;
        merge.AccumulateCoefficientGradients();
        CollectionAssert.AreEqual(new[] { 2f, 4f }, merge.CoefficientGradients);
    }
}
