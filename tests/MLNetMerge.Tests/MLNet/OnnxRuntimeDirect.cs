using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNetMerge.Tests.MLNet;

/// <summary>Runs a model in ONNX Runtime directly (no ML.NET) on a batch: the reference the ML.NET blocks are compared with.</summary>
internal static class OnnxRuntimeDirect
{
    public static Dictionary<string, float[]> Run(byte[] onnx, IReadOnlyDictionary<string, (float[] Values, int[] Shape)> floats,
        IReadOnlyDictionary<string, (long[] Values, int[] Shape)>? int64s = null)
    {
        using var session = new InferenceSession(onnx);
        var feeds = new List<NamedOnnxValue>();
        foreach (var (name, (values, shape)) in floats) feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, shape)));
        foreach (var (name, (values, shape)) in int64s ?? new Dictionary<string, (long[], int[])>())
            feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(values, shape)));
        using var results = session.Run(feeds);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.AreEqual(a.Length, b.Length, "lengths differ");
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs((double)a[i] - b[i]));
        return worst;
    }
}
