using System.Globalization;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// Reads an encoder's hyper-parameters from the operators torch exported, so they are checked against each other
/// rather than assumed:
/// <list type="bullet">
/// <item>layer-norm epsilon: the constant of the <c>Add</c> under the <c>Sqrt</c> of the decomposed layer norm
/// <c>(x − mean)/√(var + ε)·w + b</c>, or the <c>epsilon</c> of a <c>LayerNormalization</c> node;</item>
/// <item>attention heads H and head size d: the last two entries of the <c>Reshape</c> target that splits the query into
/// <c>[B, T, H, d]</c>, and the score scaling, a division by √d after <c>q·kᵀ</c> (BERT, ViT) or a product with
/// <c>d^−½</c> on the query (CLIP);</item>
/// <item>activation, as Hugging Face's <c>hidden_act</c>: the operators between the MLP's first Linear and its second:
/// <c>Erf</c> (<c>gelu</c>, erf form), <c>Tanh</c> (<c>gelu_new</c>, tanh form), <c>Sigmoid</c> after a product with 1.702
/// (<c>quick_gelu</c>), <c>Relu</c> (<c>relu</c>).</item>
/// </list>
/// </summary>
internal static class GraphHyperParameters
{
    /// <summary>The float32 constant as the decimal it was written from (float32 1e-12 reads back as 1e-12, not 9.99…e-13).</summary>
    public static double FromFloat32(double value) =>
        double.Parse(((float)value).ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>ε of the layer norm whose weight is <c>{norm}.weight</c>.</summary>
    /// <exception cref="OnnxImportException">The weight is not used as a layer norm's scale.</exception>
    public static double LayerNormEpsilon(OnnxGraphIndex g, string norm)
    {
        string weight = norm + ".weight";
        var use = g.Consumers(weight);
        if (use.Count == 1 && use[0].OpType == "LayerNormalization")
            return FromFloat32(OnnxGraphIndex.Float(use[0], "epsilon", 1e-5f));
        if (use.Count == 1 && use[0].OpType == "Mul")
        {
            var div = g.Producer(OnnxGraphIndex.Other(use[0], weight));
            var sqrt = div is { OpType: "Div" } ? g.Producer(div.Input[1]) : null;
            var add = sqrt is { OpType: "Sqrt" } ? g.Producer(sqrt.Input[0]) : null;
            if (add is { OpType: "Add" } && g.Producer(add.Input[0]) is { OpType: "ReduceMean" } && g.TryScalar(add.Input[1], out double eps))
                return FromFloat32(eps);
            if (add is { OpType: "Add" } && g.Producer(add.Input[1]) is { OpType: "ReduceMean" } && g.TryScalar(add.Input[0], out eps))
                return FromFloat32(eps);
        }
        throw new OnnxImportException(g.Path, weight, "is not the scale of a recognisable layer norm ((x − mean)/√(var + ε)·w + b or LayerNormalization), so ε cannot be read.");
    }

    /// <summary>Heads H and head size d of the attention whose query projection ends at <paramref name="query"/> (the
    /// output of the query bias Add), with the score scaling checked to be √d.</summary>
    /// <exception cref="OnnxImportException">No reshape into heads, no scaling, or a scaling that disagrees with d.</exception>
    public static (int Heads, int HeadSize) Attention(OnnxGraphIndex g, string query, string bias, int width)
    {
        string value = query;
        double? queryScale = null;
        NodeProto? reshape = null;
        for (int step = 0; step < 8 && reshape is null; step++)
        {
            var next = g.DataConsumers(value);
            if (next.Count != 1) break;
            var n = next[0];
            if (n.OpType == "Mul" && g.TryScalar(OnnxGraphIndex.Other(n, value), out double s)) { queryScale = s; value = n.Output[0]; }
            else if (n.OpType == "Reshape") reshape = n;
            else break;
        }
        if (reshape is null || !g.TryShapeVector(reshape.Input[1], out var shape) || shape.Length != 4 || shape[2] is not long h || shape[3] is not long d)
            throw new OnnxImportException(g.Path, bias, "feeds no Reshape into [B, T, heads, head size] with constant heads and head size, so the head count cannot be read.");
        if (h * d != width)
            throw new OnnxImportException(g.Path, bias, $"is split into {h} heads of {d}, which is {h * d} wide; the hidden size is {width}.");
        double sqrtD = Math.Sqrt(d);
        if (queryScale is double qs)
        {
            if (Math.Abs(qs * sqrtD - 1) > 1e-5)
                throw new OnnxImportException(g.Path, bias, $"is scaled by {qs:G6} before the scores; 1/√{d} = {1 / sqrtD:G6} was expected for heads of {d}.");
            return ((int)h, (int)d);
        }
        // Follow the query through Reshape/Transpose to the score MatMul, then expect a division by √d (or a product with 1/√d).
        value = reshape.Output[0];
        for (int step = 0; step < 4; step++)
        {
            var next = g.DataConsumers(value);
            if (next.Count != 1) break;
            var n = next[0];
            if (n.OpType == "Transpose") { value = n.Output[0]; continue; }
            if (n.OpType != "MatMul") break;
            var after = g.DataConsumers(n.Output[0]);
            if (after.Count == 1 && after[0].OpType is "Div" or "Mul" && g.TryScalar(OnnxGraphIndex.Other(after[0], n.Output[0]), out double c))
            {
                double divisor = after[0].OpType == "Div" ? c : 1 / c;
                if (Math.Abs(divisor / sqrtD - 1) > 1e-5)
                    throw new OnnxImportException(g.Path, bias, $"leads to attention scores divided by {divisor:G6}; √{d} = {sqrtD:G6} was expected for heads of {d}.");
                return ((int)h, (int)d);
            }
            break;
        }
        throw new OnnxImportException(g.Path, bias, "leads to attention scores without a recognisable 1/√(head size) scaling, so the head size cannot be confirmed.");
    }

    /// <summary>The activation applied to <paramref name="value"/> (the output of the MLP's first Linear), as <c>hidden_act</c>.</summary>
    /// <exception cref="OnnxImportException">No supported activation between the two Linear layers.</exception>
    public static string Activation(OnnxGraphIndex g, string value, string bias)
    {
        var ops = new HashSet<string>(StringComparer.Ordinal);
        var scalars = new List<double>();
        var frontier = new List<string> { value };
        for (int depth = 0; depth < 6 && frontier.Count > 0; depth++)
        {
            var nextFrontier = new List<string>();
            foreach (var v in frontier)
                foreach (var n in g.DataConsumers(v))
                {
                    if (n.OpType is "MatMul" or "Gemm") continue;
                    ops.Add(n.OpType);
                    foreach (var i in n.Input) if (g.TryScalar(i, out double s)) scalars.Add(s);
                    nextFrontier.AddRange(n.Output);
                }
            frontier = nextFrontier;
        }
        if (ops.Contains("Erf")) return "gelu";
        if (ops.Contains("Tanh")) return "gelu_new";
        if (ops.Contains("Sigmoid"))
            return scalars.Any(s => Math.Abs(s - 1.702) < 1e-4) ? "quick_gelu"
                : throw new OnnxImportException(g.Path, bias, "is followed by a Sigmoid without the factor 1.702 of QuickGELU (SiLU is not an activation the engine runs).");
        if (ops.Contains("Relu")) return "relu";
        throw new OnnxImportException(g.Path, bias, $"is followed by {string.Join(", ", ops.Order(StringComparer.Ordinal))}: no Erf, Tanh, Sigmoid or Relu, so the activation is unknown.");
    }
}
