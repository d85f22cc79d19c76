using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>One Linear weight found in the graph.</summary>
/// <param name="Initializer">The initializer's name in the graph (anonymous, e.g. <c>993</c> or <c>onnx::MatMul_333</c>, or a
/// state-dict name).</param>
/// <param name="Name">The Hugging Face name (<c>{module}.weight</c>).</param>
/// <param name="Transposed">True when the initializer is stored <c>[in, out]</c> and must be transposed to Hugging Face's <c>[out, in]</c>.</param>
/// <param name="Output">The node output that holds the Linear's result <c>x·Wᵀ + b</c> (after the bias Add when there is one).</param>
/// <param name="Bias">The named bias initializer, or null for a bias-free Linear.</param>
internal sealed record TracedLinear(string Initializer, string Name, bool Transposed, string Output, string? Bias);

/// <summary>
/// Finds every Linear layer of a torch export and proves its name and orientation from the graph alone.
/// <para>Orientation comes from how the weight is consumed, never from its shape (a square weight fits either way):
/// <c>MatMul(x, W)</c> computes <c>x·W</c>, so W is stored <c>[in, out]</c> (transposed); <c>MatMul(x, Transpose(W))</c>
/// and <c>Gemm(x, W, transB=1)</c> read W as <c>[out, in]</c> (as stored by Hugging Face); <c>Gemm(x, W, transB=0)</c>
/// is <c>[in, out]</c>. A weight on the left of a MatMul, a Gemm with <c>transA</c>, a weight consumed more than once or
/// through any other operator is refused: its orientation is not proven.</para>
/// <para>The name comes from the bias: the <c>Add</c> that follows the MatMul (or the Gemm's third input) holds a named
/// <c>{module}.bias</c>, and the weight is <c>{module}.weight</c>. A bias-free Linear is named by the layer norm whose
/// output it reads, from <see cref="BiasFreeAfterNorm"/> (CLIP's <c>visual_projection</c> after <c>post_layernorm</c>).</para>
/// </summary>
internal static class LinearWeightTracer
{
    /// <summary>Bias-free Linear layers the tracer knows: (layer norm read, Linear module).</summary>
    public static readonly IReadOnlyList<(string Norm, string Module)> BiasFreeAfterNorm =
    [
        ("vision_model.post_layernorm", "visual_projection"),
    ];

    /// <summary>Traces every floating-point rank-2 initializer consumed by a MatMul or Gemm (directly or through a
    /// Transpose); rank-2 initializers consumed otherwise (embedding tables) are left to the caller.</summary>
    /// <exception cref="OnnxImportException">An orientation or a name the graph does not prove.</exception>
    public static List<TracedLinear> Trace(OnnxGraphIndex g)
    {
        var found = new List<TracedLinear>();
        foreach (var init in g.Reader.Tensors)
        {
            if (!init.DType.IsFloatingPoint() || init.Shape.Length != 2) continue;
            var consumers = g.Consumers(init.Name);
            bool linearUse = consumers.Any(n => n.OpType is "MatMul" or "Gemm" || (n.OpType == "Transpose" && g.Consumers(n.Output[0]).Any(c => c.OpType == "MatMul")));
            if (!linearUse) continue;
            if (consumers.Count != 1)
                throw new OnnxImportException(g.Path, init.Name, $"is read by {consumers.Count} nodes ({string.Join(", ", consumers.Select(n => n.OpType))}); a Linear weight read once was expected, so its role and orientation are not proven.");
            found.Add(TraceOne(g, init.Name, consumers[0]));
        }
        var dup = found.GroupBy(l => l.Name).FirstOrDefault(x => x.Count() > 1);
        if (dup is not null)
            throw new OnnxImportException(g.Path, dup.First().Initializer, $"and '{dup.Skip(1).First().Initializer}' both trace to '{dup.Key}'.");
        return found;
    }

    private static TracedLinear TraceOne(OnnxGraphIndex g, string weight, NodeProto node)
    {
        bool transposed;
        string output;
        string? bias = null;
        switch (node.OpType)
        {
            case "MatMul":
                if (node.Input[0] == weight)
                    throw new OnnxImportException(g.Path, weight, "is the left operand of MatMul (W·x), not a Linear's x·W: its orientation is ambiguous.");
                transposed = true;
                output = node.Output[0];
                break;
            case "Transpose":
            {
                var perm = OnnxGraphIndex.Ints(node, "perm");
                if (perm is not null && !(perm.Length == 2 && perm[0] == 1 && perm[1] == 0))
                    throw new OnnxImportException(g.Path, weight, $"is transposed with perm [{string.Join(", ", perm)}]; [1, 0] was expected.");
                var after = g.Consumers(node.Output[0]);
                if (after.Count != 1 || after[0].OpType != "MatMul" || after[0].Input[1] != node.Output[0])
                    throw new OnnxImportException(g.Path, weight, "is transposed and then not used as the right operand of one MatMul: its orientation is ambiguous.");
                transposed = false;
                output = after[0].Output[0];
                break;
            }
            case "Gemm":
                if (node.Input[1] != weight)
                    throw new OnnxImportException(g.Path, weight, "is the A operand of Gemm, not its B: its orientation is ambiguous.");
                if (OnnxGraphIndex.Int(node, "transA", 0) != 0)
                    throw new OnnxImportException(g.Path, weight, "feeds a Gemm with transA=1: its orientation is ambiguous.");
                if (OnnxGraphIndex.Float(node, "alpha", 1f) != 1f || OnnxGraphIndex.Float(node, "beta", 1f) != 1f)
                    throw new OnnxImportException(g.Path, weight, "feeds a Gemm with alpha or beta other than 1; a plain Linear was expected.");
                transposed = OnnxGraphIndex.Int(node, "transB", 0) == 0;
                output = node.Output[0];
                if (node.Input.Count > 2 && node.Input[2].Length > 0) bias = node.Input[2];
                break;
            default:
                throw new OnnxImportException(g.Path, weight, $"is read by {node.OpType}; a MatMul, Gemm or Transpose→MatMul was expected.");
        }
        if (bias is null)
        {
            var adds = g.DataConsumers(output).Where(n => n.OpType == "Add").ToList();
            foreach (var add in adds)
            {
                string other = OnnxGraphIndex.Other(add, output);
                if (g.TryGetInitializer(other, out var t) && t.Shape.Length == 1 && other.EndsWith(".bias", StringComparison.Ordinal))
                {
                    bias = other;
                    output = add.Output[0];
                    break;
                }
            }
        }
        string module;
        if (bias is not null)
        {
            if (!bias.EndsWith(".bias", StringComparison.Ordinal))
                throw new OnnxImportException(g.Path, weight, $"is added to '{bias}', which is not named '{{module}}.bias', so the module is unknown.");
            module = bias[..^".bias".Length];
        }
        else if (!IsAnonymous(weight) && weight.EndsWith(".weight", StringComparison.Ordinal)) module = weight[..^".weight".Length]; // a bias-free Linear that kept its state-dict name
        else module = BiasFreeModule(g, weight, node);
        string name = module + ".weight";
        if (!IsAnonymous(weight) && weight != name)
            throw new OnnxImportException(g.Path, weight, $"is named like a state-dict tensor but its bias names the module '{module}' (weight '{name}' expected).");
        return new TracedLinear(weight, name, transposed, output, bias);
    }

    private static string BiasFreeModule(OnnxGraphIndex g, string weight, NodeProto node)
    {
        string input = node.OpType == "Transpose" ? g.Consumers(node.Output[0])[0].Input[0] : node.Input[0];
        var add = g.Producer(input);
        if (add is { OpType: "Add" })
            foreach (var (norm, module) in BiasFreeAfterNorm)
                if (add.Input.Contains(norm + ".bias")) return module;
        throw new OnnxImportException(g.Path, weight, "is a Linear weight with no named bias after it and no known layer norm before it: its Hugging Face name cannot be told.");
    }

    /// <summary>True for names torch gives folded constants (digits, or <c>onnx::</c>…) rather than state-dict names.</summary>
    public static bool IsAnonymous(string name) =>
        name.StartsWith("onnx::", StringComparison.Ordinal) || name.All(char.IsAsciiDigit) || !name.Contains('.');
}
