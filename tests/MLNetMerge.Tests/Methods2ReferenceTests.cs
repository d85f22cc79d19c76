using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests;

/// <summary>
/// The round-2 methods against the independent torch reference of <c>tools/make_methods2_fixtures.py</c> (exact float64
/// SVDs for the subspace methods, the authors' float32 autograd + torch.optim.Adam for WUDI, mergekit's definitions for
/// nuslerp, multislerp, karcher, sce and breadcrumbs_ties) on a seeded 3-task family of six tensors (two 2-D weights in
/// a block, a bias, a norm, an embedding, a 3-D tensor); and LiNeS, PCB and TATR against <c>tools/make_lines_fixtures.py</c>,
/// <c>tools/make_pcb_fixtures.py</c> and <c>tools/make_tatr_fixtures.py</c> (float64, the papers' definitions) on a 3-task
/// family of three blocks, an embedding and a final norm (for PCB also with its task vectors scaled by 1/50); and mergekit's
/// nearswap and arcee_fusion against <c>tools/make_mergekit_extra_fixtures.py</c> (mergekit's definitions) on the first
/// task of the round-2 family. Every merged tensor must match to <c>rtol·max|θ_ref − θ0| +
/// 1e-6</c>: float32 rounding for the closed-form methods (2e-5; measured ≤ 1.6e-6), the Adam trajectory for WUDI (2e-4; measured ≤ 1e-6).
/// </summary>
[TestClass]
public sealed class Methods2ReferenceTests
{
    /// <summary>The fixture folders, each with its own family and cases.json.</summary>
    private static readonly string[] Fixtures = ["methods2", "lines", "pcb", "pcb_small", "tatr", "mergekit_extra"];

    private static string Dir(string fixture) => Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);

    private sealed record Case(string name, string method, Dictionary<string, JsonElement> parameters,
        Dictionary<string, Dictionary<string, JsonElement>> per_model, string[] tasks, double rtol);

    public static IEnumerable<object[]> Cases => Fixtures.SelectMany(fixture =>
        JsonSerializer.Deserialize<List<Case>>(File.ReadAllText(Path.Combine(Dir(fixture), "cases.json")))!.Select(c => new object[] { fixture, c.name }));

    private static ParameterValue Value(JsonElement e) => e.ValueKind == JsonValueKind.Number
        ? new ParameterValue.Scalar(e.GetDouble()) : new ParameterValue.Text(e.GetString()!);

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Matches_the_torch_reference(string fixture, string name)
    {
        string dir = Dir(fixture);
        var c = JsonSerializer.Deserialize<List<Case>>(File.ReadAllText(Path.Combine(dir, "cases.json")))!.Single(x => x.name == name);
        using var family = ModelFamily.Load(Path.Combine(dir, "base.safetensors"), c.tasks.Select(t => (t, Path.Combine(dir, t + ".safetensors"))));
        var (method, implied) = MergeMethods.Find(c.method);
        var given = c.parameters.ToDictionary(kv => kv.Key, kv => Value(kv.Value), StringComparer.Ordinal);
        var global = MergeMethods.WithImplied(method, given, implied);
        var perModel = c.tasks.Select(t => c.per_model.TryGetValue(t, out var p)
            ? (IReadOnlyDictionary<string, ParameterValue>?)p.ToDictionary(kv => kv.Key, kv => Value(kv.Value)) : null).ToList();
        var parameters = new MergeParameters(method, global, perModel);
        var merged = MergeExecutor.RunInMemory(family, method, parameters, new MergeExecutionOptions { MaxThreads = 1, Seed = 0 });

        using var expected = SafetensorsReader.Open(Path.Combine(dir, "expected", name + ".safetensors"));
        using var baseReader = SafetensorsReader.Open(Path.Combine(dir, "base.safetensors"));
        foreach (var info in expected.Tensors)
        {
            var want = new float[info.ElementCount];
            expected.ReadFloat32(info, want);
            var theta0 = new float[info.ElementCount];
            baseReader.TryGetTensor(info.Name, out var bi);
            baseReader.ReadFloat32(bi, theta0);
            double scale = want.Select((v, i) => Math.Abs(v - theta0[i])).Max();
            double tol = c.rtol * scale + 1e-6;
            var got = merged.Tensors[info.Name];
            double worst = want.Select((v, i) => Math.Abs(v - got[i])).Max();
            Assert.IsTrue(worst <= tol, $"{name}/{info.Name}: max |ours − torch| = {worst:G4} > {tol:G4} (update scale {scale:G4})");
        }
    }
}
