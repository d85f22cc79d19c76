using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// A linear encoder with a head, for gradients in closed form: encoder <c>e = W x + b</c> (E = 2, In = 3), head
/// <c>z = H e + c</c> (K = 3), <c>p = softmax(z)</c>, on two inputs.
/// </summary>
internal sealed class LinearEncoderCase
{
    public float[] W { get; } = [0.5f, -1f, 0.25f, 1.5f, 0.75f, -0.5f];  // (E, In)
    public float[] B { get; } = [0.1f, -0.2f];                           // (E)
    public float[] Inputs { get; } = [1f, 2f, -1f, -0.5f, 0.25f, 3f];    // (2, In)
    public Mlp Encoder { get; }
    public TaskHead Head { get; } = new([1f, -1f, 0.5f, 2f, -1.5f, 0.25f], [0f, 0.3f, -0.3f], 3, 2);
    public TaskDataset Data { get; }

    public LinearEncoderCase()
    {
        Encoder = new Mlp(new MlpConfig { InputSize = 3, OutputSize = 2 });
        W.CopyTo(Encoder.Parameters.Value("layers.0.weight"));
        B.CopyTo(Encoder.Parameters.Value("layers.0.bias"));
        Data = new TaskDataset("t", Inputs, [3], null, ["a", "b", "c"]);
    }

    /// <summary>Input n, its embedding e and softmax p, in float64.</summary>
    public (double[] X, double[] E, double[] P) Forward(int n)
    {
        var x = Inputs.AsSpan(n * 3, 3).ToArray().Select(v => (double)v).ToArray();
        var e = new double[2];
        for (int i = 0; i < 2; i++) e[i] = B[i] + W[i * 3] * x[0] + W[i * 3 + 1] * x[1] + W[i * 3 + 2] * x[2];
        var z = new double[3];
        for (int k = 0; k < 3; k++) z[k] = Head.Bias[k] + Head.Weight[k * 2] * e[0] + Head.Weight[k * 2 + 1] * e[1];
        double max = z.Max(), s = z.Sum(v => Math.Exp(v - max));
        return (x, e, z.Select(v => Math.Exp(v - max) / s).ToArray());
    }

    /// <summary><c>Hᵀ(p − δ_y)</c>: the loss gradient at the embedding for label y (its negation is log p_y's).</summary>
    public double[] EmbeddingGradient(double[] p, int y)
    {
        var d = new double[2];
        for (int i = 0; i < 2; i++) for (int k = 0; k < 3; k++) d[i] += Head.Weight[k * 2 + i] * (p[k] - (k == y ? 1 : 0));
        return d;
    }
}
