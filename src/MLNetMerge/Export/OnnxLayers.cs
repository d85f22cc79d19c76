using MLNetMerge.Nn.Layers;
using static MLNetMerge.Export.OnnxGraphBuilder;

namespace MLNetMerge.Export;

/// <summary>Looks up a named weight (float32 values, row-major) of the model being exported.</summary>
/// <param name="name">The checkpoint name.</param>
internal delegate float[] WeightSource(string name);

/// <summary>
/// The engine's layers as opset-17 ONNX subgraphs. Weights keep their checkpoint names and (out, in) layouts; a
/// <c>Transpose</c> of a weight initializer is constant-folded by ONNX Runtime when the session is created.
/// </summary>
internal static class OnnxLayers
{
    /// <summary><c>y = x Wᵀ + b</c> for x of any rank ≥ 2 (MatMul broadcasts the leading dimensions); W (out, in), b (out) or none.</summary>
    public static string Linear(OnnxGraphBuilder g, WeightSource w, string x, string weight, string? bias, int outDim, int inDim)
    {
        string wt = g.Node("Transpose", [g.Weight(weight, w, outDim, inDim)], Ints("perm", 1, 0));
        string y = g.Node("MatMul", [x, wt]);
        return bias is null ? y : g.Node("Add", [y, g.Weight(bias, w, outDim)]);
    }

    /// <summary><c>y = x Wᵀ + b</c> for 2-D x (B, in) as one Gemm (transB = 1).</summary>
    public static string Dense2D(OnnxGraphBuilder g, WeightSource w, string x, string weight, string? bias, int outDim, int inDim)
    {
        var inputs = new List<string> { x, g.Weight(weight, w, outDim, inDim) };
        if (bias is not null) inputs.Add(g.Weight(bias, w, outDim));
        return g.Node("Gemm", inputs.ToArray(), Int("transB", 1));
    }

    /// <summary>Layer normalisation over the last axis: <c>y = (x − μ)/√(σ² + ε) · γ + β</c> (LayerNormalization, opset 17).</summary>
    public static string LayerNorm(OnnxGraphBuilder g, WeightSource w, string x, string prefix, int c, double eps) =>
        g.Node("LayerNormalization", [x, g.Weight(prefix + ".weight", w, c), g.Weight(prefix + ".bias", w, c)],
            Int("axis", -1), Float("epsilon", (float)eps));

    /// <summary>
    /// The element-wise activations: GELU from Erf <c>x/2·(1 + erf(x/√2))</c>; tanh GELU
    /// <c>x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))</c>; QuickGELU <c>x·σ(1.702x)</c>; ReLU; Tanh.
    /// </summary>
    public static string Activation(OnnxGraphBuilder g, ActivationKind kind, string x)
    {
        switch (kind)
        {
            case ActivationKind.GeluErf:
            {
                string erf = g.Node("Erf", [g.Node("Mul", [x, g.Scalar((float)(1 / Math.Sqrt(2)))])]);
                return g.Node("Mul", [g.Node("Mul", [x, g.Node("Add", [erf, g.Scalar(1f)])]), g.Scalar(0.5f)]);
            }
            case ActivationKind.GeluTanh:
            {
                string cube = g.Node("Mul", [g.Node("Mul", [x, x]), x]);
                string inner = g.Node("Mul", [g.Node("Add", [x, g.Node("Mul", [cube, g.Scalar(0.044715f)])]), g.Scalar((float)Math.Sqrt(2 / Math.PI))]);
                return g.Node("Mul", [g.Node("Mul", [x, g.Node("Add", [g.Node("Tanh", [inner]), g.Scalar(1f)])]), g.Scalar(0.5f)]);
            }
            case ActivationKind.QuickGelu:
                return g.Node("Mul", [x, g.Node("Sigmoid", [g.Node("Mul", [x, g.Scalar(1.702f)])])]);
            case ActivationKind.Relu:
                return g.Node("Relu", [x]);
            case ActivationKind.Tanh:
                return g.Node("Tanh", [x]);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no ONNX form");
        }
    }

    /// <summary>
    /// Multi-head self-attention on q, k, v (B, T, C): per head <c>softmax(Q Kᵀ/√d) V</c> with d = C/H, heads concatenated
    /// back to (B, T, C).
    /// </summary>
    /// <param name="g">The graph.</param>
    /// <param name="q">Queries (B, T, C).</param>
    /// <param name="k">Keys (B, T, C).</param>
    /// <param name="v">Values (B, T, C).</param>
    /// <param name="c">C.</param>
    /// <param name="heads">H.</param>
    /// <param name="keyMask">A bool (B, 1, 1, T) value, true where a key may be attended; masked scores become −1e30
    /// (softmax weight exactly 0 in float32, as the engine's −∞), or null for none.</param>
    public static string Attention(OnnxGraphBuilder g, string q, string k, string v, int c, int heads, string? keyMask = null)
    {
        int d = c / heads;
        string split = g.Int64s(0, 0, heads, d);
        string qh = g.Node("Transpose", [g.Node("Reshape", [q, split])], Ints("perm", 0, 2, 1, 3));    // (B, H, T, d)
        string kt = g.Node("Transpose", [g.Node("Reshape", [k, split])], Ints("perm", 0, 2, 3, 1));    // (B, H, d, T)
        string vh = g.Node("Transpose", [g.Node("Reshape", [v, split])], Ints("perm", 0, 2, 1, 3));    // (B, H, T, d)
        string scores = g.Node("Mul", [g.Node("MatMul", [qh, kt]), g.Scalar((float)(1 / Math.Sqrt(d)))]); // (B, H, T, T)
        if (keyMask is not null) scores = g.Node("Where", [keyMask, scores, g.Scalar(-1e30f)]);
        string probs = g.Node("Softmax", [scores], Int("axis", -1));
        string o = g.Node("Transpose", [g.Node("MatMul", [probs, vh])], Ints("perm", 0, 2, 1, 3));    // (B, T, H, d)
        return g.Node("Reshape", [o, g.Int64s(0, 0, c)]);                                              // (B, T, C)
    }
}
