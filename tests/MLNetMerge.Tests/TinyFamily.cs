using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>
/// Builds tiny model families in memory for golden tests: a base θ0 and named fine-tuned models θt, given either as
/// weights or as task vectors (θt = θ0 + τt). Values in the tests are small dyadic fractions, so θt − θ0 gives τt back
/// exactly in float32 and the hand-worked expectations hold to the last bit unless a method multiplies by 0.3 etc.
/// </summary>
internal sealed class TinyFamily
{
    private readonly InMemoryCheckpoint _base;
    private readonly InMemoryCheckpoint[] _tasks;

    public TinyFamily(params string[] taskNames)
    {
        TaskNames = taskNames;
        _base = new InMemoryCheckpoint("base.safetensors");
        _tasks = taskNames.Select(n => new InMemoryCheckpoint($"{n}.safetensors")).ToArray();
    }

    public string[] TaskNames { get; }

    public InMemoryCheckpoint Base => _base;

    public InMemoryCheckpoint Task(string name) => _tasks[Array.IndexOf(TaskNames, name)];

    /// <summary>Adds a tensor to every model: θ0 = <paramref name="theta0"/>, θt = θ0 + τt (computed in float32).</summary>
    public TinyFamily WithTaskVectors(string name, int[] shape, float[] theta0, params float[][] taus) =>
        WithTaskVectors(name, shape, DType.F32, theta0, taus);

    /// <summary>As <see cref="WithTaskVectors(string, int[], float[], float[][])"/>, stored as <paramref name="dtype"/>.</summary>
    public TinyFamily WithTaskVectors(string name, int[] shape, DType dtype, float[] theta0, params float[][] taus)
    {
        if (taus.Length != _tasks.Length) throw new ArgumentException($"{name}: {taus.Length} task vectors for {_tasks.Length} tasks.");
        var thetas = taus.Select(tau => theta0.Zip(tau, (b, d) => b + d).ToArray()).ToArray();
        return WithWeights(name, shape, dtype, theta0, thetas);
    }

    /// <summary>Adds a tensor to every model given θ0 and every θt.</summary>
    public TinyFamily WithWeights(string name, int[] shape, float[] theta0, params float[][] thetas) =>
        WithWeights(name, shape, DType.F32, theta0, thetas);

    /// <summary>As <see cref="WithWeights(string, int[], float[], float[][])"/>, stored as <paramref name="dtype"/>.</summary>
    public TinyFamily WithWeights(string name, int[] shape, DType dtype, float[] theta0, params float[][] thetas)
    {
        if (thetas.Length != _tasks.Length) throw new ArgumentException($"{name}: {thetas.Length} weights for {_tasks.Length} tasks.");
        _base.Add(name, shape, theta0, dtype);
        for (int t = 0; t < _tasks.Length; t++) _tasks[t].Add(name, shape, thetas[t], dtype);
        return this;
    }

    /// <summary>Adds an int64 tensor: the base's values and each task's (which may differ; the base's are copied).</summary>
    public TinyFamily WithInt64(string name, long[] baseValues, params long[][] taskValues)
    {
        _base.AddInt64(name, [baseValues.Length], baseValues);
        for (int t = 0; t < _tasks.Length; t++) _tasks[t].AddInt64(name, [baseValues.Length], taskValues.Length > t ? taskValues[t] : baseValues);
        return this;
    }

    /// <summary>Adds a head tensor to one task only.</summary>
    public TinyFamily WithHead(string task, string name, int[] shape, float[] values)
    {
        Task(task).Add(name, shape, values);
        return this;
    }

    /// <summary>The family over the in-memory checkpoints.</summary>
    public ModelFamily Build(string heads = HeadFilter.DefaultPattern) =>
        ModelFamily.Create(_base, TaskNames.Select((n, t) => new TaskModel(n, _tasks[t])).ToList(), new HeadFilter(heads));

    /// <summary>Writes <c>base.safetensors</c> and <c>{task}.safetensors</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        _base.Save(Path.Combine(directory, "base.safetensors"));
        for (int t = 0; t < _tasks.Length; t++) _tasks[t].Save(Path.Combine(directory, $"{TaskNames[t]}.safetensors"));
    }
}

/// <summary>Runs merges on tiny families and compares results.</summary>
internal static class Merges
{
    /// <summary>A recipe-like value: double → number, double[] → per-layer list, string → word, bool → flag, ParameterValue as is.</summary>
    public static ParameterValue Value(object o) => o switch
    {
        ParameterValue v => v,
        double d => new ParameterValue.Scalar(d),
        int i => new ParameterValue.Scalar(i),
        double[] g => new ParameterValue.Gradient(g),
        bool b => new ParameterValue.Text(b ? "true" : "false"),
        string s => new ParameterValue.Text(s),
        _ => throw new ArgumentException($"no parameter value for {o.GetType()}."),
    };

    /// <summary>A parameter map from (name, value) pairs.</summary>
    public static Dictionary<string, ParameterValue> P(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => Value(v.Value), StringComparer.Ordinal);

    /// <summary>Parameters of <paramref name="method"/> (a name or mergekit alias, whose implied values apply) for <paramref name="taskCount"/> models.</summary>
    public static MergeParameters Parameters(string method, int taskCount, Dictionary<string, ParameterValue>? global = null,
        params Dictionary<string, ParameterValue>?[] perModel)
    {
        var (m, implied) = MergeMethods.Find(method);
        var list = Enumerable.Range(0, taskCount).Select(t => t < perModel.Length ? (IReadOnlyDictionary<string, ParameterValue>?)perModel[t] : null).ToList();
        return new MergeParameters(m, MergeMethods.WithImplied(m, global ?? [], implied), list);
    }

    /// <summary>Merges the family in memory.</summary>
    public static MergedModel Run(ModelFamily family, string method, Dictionary<string, ParameterValue>? global = null,
        Dictionary<string, ParameterValue>?[]? perModel = null, MergeExecutionOptions? options = null)
    {
        var parameters = Parameters(method, family.Tasks.Count, global, perModel ?? []);
        return MergeExecutor.RunInMemory(family, parameters.Method, parameters, options ?? new MergeExecutionOptions { MaxThreads = 1 });
    }

    /// <summary>Builds and merges a <see cref="TinyFamily"/>.</summary>
    public static MergedModel Run(TinyFamily family, string method, Dictionary<string, ParameterValue>? global = null,
        Dictionary<string, ParameterValue>?[]? perModel = null, MergeExecutionOptions? options = null)
    {
        using var f = family.Build();
        return Run(f, method, global, perModel, options);
    }

    /// <summary>θ0 + δ, element-wise, in float32 (the hand-worked result of a method that adds δ to the base).</summary>
    public static float[] Plus(float[] theta0, params double[] delta) => theta0.Select((b, i) => (float)(b + delta[i])).ToArray();

    /// <summary>Asserts |expected − actual| ≤ tol element-wise, naming the first bad index.</summary>
    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tol = 1e-6, string what = "")
    {
        Assert.AreEqual(expected.Count, actual.Count, $"{what}: length");
        for (int i = 0; i < expected.Count; i++)
        {
            bool ok = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= tol;
            if (!ok) Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol}). expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
        }
    }

    /// <summary>
    /// Under allow_nonfinite, for a method whose statistics over the model count a non-finite element as τ = 0: a NaN in
    /// one task's element <paramref name="index"/> of a two-task family leaves that element NaN in the output and every
    /// other element as merging the family with τ = 0 there in both tasks gives.
    /// </summary>
    public static void AssertNonFiniteCountsAsZero(string method, Dictionary<string, ParameterValue> parameters, int index)
    {
        var theta0 = Random(64, 7);
        float[] t1 = Random(64, 8), t2 = Random(64, 9);
        var withNaN = (float[])t1.Clone();
        withNaN[index] = float.NaN;
        float[] z1 = (float[])t1.Clone(), z2 = (float[])t2.Clone();
        z1[index] = 0;
        z2[index] = 0;
        var options = new MergeExecutionOptions { MaxThreads = 1, AllowNonFinite = true };
        var got = Run(new TinyFamily("t1", "t2").WithTaskVectors("w", [64], theta0, withNaN, t2), method, parameters, options: options).Tensors["w"];
        var want = Run(new TinyFamily("t1", "t2").WithTaskVectors("w", [64], theta0, z1, z2), method, parameters, options: options).Tensors["w"];
        Assert.IsTrue(float.IsNaN(got[index]), $"{method}: element {index} is {got[index]}, not NaN");
        for (int i = 0; i < 64; i++)
            if (i != index) Assert.AreEqual(want[i], got[i], $"{method}: element {i}");
    }

    /// <summary>Deterministic values in [-1, 1) from a 64-bit LCG.</summary>
    public static float[] Random(int length, ulong seed, float scale = 1f)
    {
        var x = new float[length];
        ulong s = seed * 6364136223846793005UL + 1442695040888963407UL;
        for (int i = 0; i < length; i++)
        {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            x[i] = ((int)(s >> 40) / (float)(1 << 23) - 1f) * scale;
        }
        return x;
    }
}
