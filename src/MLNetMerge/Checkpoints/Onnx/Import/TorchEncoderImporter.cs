using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// Imports a torch-exported ONNX encoder — BERT (<c>BertModel</c>, e.g. all-MiniLM-L6-v2), ViT (<c>ViTModel</c>) or
/// CLIP vision (<c>CLIPVisionModel[WithProjection]</c>) — as Hugging Face tensors the engine runs.
/// <para>torch keeps the state-dict names of tensors it uses as they are (embeddings, layer norms, biases, the poolers'
/// Gemm weights) but folds <c>Wᵀ</c> of every Linear applied to a 3-D activation into an anonymous <c>[in, out]</c>
/// initializer; <see cref="LinearWeightTracer"/> names and orients those from the graph. The architecture is told by its
/// embedding tensor, the sizes by the tensor shapes, and heads, ε and activation by <see cref="GraphHyperParameters"/>;
/// then every tensor of the Hugging Face layout for that configuration (<see cref="ImportedConfig.Layout"/>) must be
/// found with its exact shape, and every
/// floating-point initializer must be one of them (or a <c>classifier.*</c> head), else the import fails naming it.</para>
/// </summary>
internal static class TorchEncoderImporter
{
    /// <summary>True when the model holds one of the embedding tensors the importer starts from (so importing is meant).</summary>
    public static bool LooksLikeEncoder(OnnxCheckpointReader reader) =>
        reader.Tensors.Any(t => t.Name.EndsWith("embeddings.word_embeddings.weight", StringComparison.Ordinal)
            || t.Name.EndsWith("embeddings.cls_token", StringComparison.Ordinal) || t.Name == "vision_model.embeddings.class_embedding");

    /// <summary>Imports the model at <paramref name="path"/>.</summary>
    /// <exception cref="OnnxImportException">Not an encoder the importer knows, an unmapped initializer, an unproven
    /// orientation, or hyper-parameters that disagree.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a valid ONNX model.</exception>
    public static ImportedEncoder Import(string path)
    {
        using var reader = OnnxCheckpointReader.Open(path);
        return Import(reader);
    }

    /// <summary>The operators an encoder graph the importer traces may hold (ONNX's default domain): everything the weights
    /// pass through is one of these, so no computation the import cannot carry over is dropped silently.</summary>
    internal static readonly IReadOnlySet<string> KnownOperators = new HashSet<string>(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Sigmoid", "Softmax", "MatMul", "Gemm", "Conv",
        "LayerNormalization", "ReduceMean", "ReduceSum", "Reshape", "Transpose", "Shape", "Gather", "Unsqueeze", "Squeeze",
        "Concat", "Slice", "Cast", "Constant", "ConstantOfShape", "Expand", "Where", "Equal", "Range", "Identity", "Flatten",
        "Neg", "Not", "Less", "Greater", "CumSum",
    };

    /// <summary>The default-domain opsets the importer reads (torch exports 9–18; the exporter here writes 17).</summary>
    internal const int MinOpset = 9, MaxOpset = 21;

    /// <summary>Refuses a graph the importer would misread: an opset outside the range it knows, an operator outside
    /// <see cref="KnownOperators"/> or of another domain, or this project's EMR single-file export.</summary>
    private static void CheckOperators(OnnxGraphIndex g, ModelProto model)
    {
        foreach (var opset in model.OpsetImport)
            if (opset.Domain is "" or "ai.onnx" && opset.Version is < MinOpset or > MaxOpset)
                throw new OnnxImportException(g.Path, null, $"declares opset {opset.Version}; the importer reads opsets {MinOpset} to {MaxOpset}.");
        if (model.Graph.Initializer.Any(i => i.Name == "rescalers") && model.Graph.Initializer.Any(i => i.Name.StartsWith("masks.", StringComparison.Ordinal)))
            throw new OnnxImportException(g.Path, null, "is an EMR single-file export (unified weights, per-task masks and rescalers); import one task's own .onnx file, or merge from the output it was exported from.");
        foreach (var node in model.Graph.Node)
            if (node.Domain is not ("" or "ai.onnx") || !(KnownOperators.Contains(node.OpType) || node.OpType == "Relu"))
                throw new OnnxImportException(g.Path, null, $"node '{node.Name}' is {(node.Domain is "" or "ai.onnx" ? "" : node.Domain + ":")}{node.OpType}, an operator the importer does not trace; " +
                    "an encoder graph is read back only when every operator is one it understands, so that nothing it computes is lost.");
    }

    /// <summary>Relu is read as the MLP's activation (<c>hidden_act: relu</c>), one per block; anywhere else (before a
    /// classifier, after an attention) it computes something the imported weights would not, and is refused.</summary>
    private static ImportedEncoder CheckRelus(OnnxGraphIndex g, ImportedEncoder imported)
    {
        var relus = g.Graph.Node.Where(n => n.OpType == "Relu").ToList();
        int expected = imported.Config.HiddenAct == "relu" ? imported.Config.NumLayers : 0;
        if (relus.Count != expected)
            throw new OnnxImportException(g.Path, null, $"node '{relus[^1].Name}' is Relu, an operator the importer does not trace there: the graph holds {relus.Count} Relu nodes where " +
                (expected == 0 ? $"its MLP activation ({imported.Config.HiddenAct}) has none" : $"its {expected} blocks' MLP activation has {expected}") +
                "; an encoder graph is read back only when every operator is one it understands, so that nothing it computes is lost.");
        return imported;
    }

    /// <summary>Imports an opened model.</summary>
    public static ImportedEncoder Import(OnnxCheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var g = new OnnxGraphIndex(reader);
        if (LooksLikeEncoder(reader))
        {
            CheckOperators(g, reader.Model); // a graph that is no encoder is refused below, as such
            ImportGraphCheck.Check(reader);
        }
        var linears = LinearWeightTracer.Trace(g);
        var byName = linears.ToDictionary(l => l.Name, StringComparer.Ordinal);
        string? word = reader.Tensors.FirstOrDefault(t => t.Name.EndsWith("embeddings.word_embeddings.weight", StringComparison.Ordinal))?.Name;
        string? cls = reader.Tensors.FirstOrDefault(t => t.Name.EndsWith("embeddings.cls_token", StringComparison.Ordinal))?.Name;
        if (word is not null)
        {
            string prefix = word[..^"embeddings.word_embeddings.weight".Length];
            if (g.Graph.Node.Any(n => n.OpType == "CumSum"))
                throw new OnnxImportException(g.Path, word, "belongs to a graph that counts positions with CumSum (RoBERTa-style); only BERT positions 0…T−1 are imported.");
            return CheckRelus(g, Collect(g, prefix, TextConfig(g, prefix, byName), byName) with { Pooling = EmbeddingPooling(g) });
        }
        if (cls is not null)
        {
            string prefix = cls[..^"embeddings.cls_token".Length];
            return CheckRelus(g, Collect(g, prefix, VisionConfig(g, prefix, byName, clip: false), byName));
        }
        if (reader.TryGetTensor("vision_model.embeddings.class_embedding", out _))
        {
            return CheckRelus(g, Collect(g, "", VisionConfig(g, "", byName, clip: true), byName));
        }
        throw new OnnxImportException(g.Path, null, "holds none of embeddings.word_embeddings.weight (BERT), embeddings.cls_token (ViT) or vision_model.embeddings.class_embedding (CLIP vision): not an encoder the importer knows.");
    }

    private static int[] Shape(OnnxGraphIndex g, string name) =>
        g.TryGetInitializer(name, out var t) ? t.Shape : throw new OnnxImportException(g.Path, name, "is missing from the initializers.");

    private static int Layers(OnnxGraphIndex g, Func<int, string> norm)
    {
        int n = 0;
        while (g.TryGetInitializer(norm(n), out _)) n++;
        return n;
    }

    private static TracedLinear Linear(OnnxGraphIndex g, Dictionary<string, TracedLinear> byName, string module) =>
        byName.TryGetValue(module + ".weight", out var l) ? l
            : throw new OnnxImportException(g.Path, module + ".bias", $"has no Linear weight traced to '{module}.weight'.");

    /// <summary>One value read per layer must agree across layers.</summary>
    private static T Same<T>(OnnxGraphIndex g, IReadOnlyList<(string Tensor, T Value)> values, string what) where T : notnull
    {
        if (values.Count == 0) throw new OnnxImportException(g.Path, null, $"has no layers to read {what} from.");
        var first = values[0];
        foreach (var v in values)
            if (!EqualityComparer<T>.Default.Equals(v.Value, first.Value))
                throw new OnnxImportException(g.Path, v.Tensor, $"gives {what} {v.Value}, but '{first.Tensor}' gives {first.Value}; one value was expected.");
        return first.Value;
    }

    private static double Epsilon(OnnxGraphIndex g, IEnumerable<string> norms) =>
        Same(g, norms.Select(n => (n + ".weight", GraphHyperParameters.LayerNormEpsilon(g, n))).ToList(), "layer-norm epsilon");

    private static (int Heads, string Act) Blocks(OnnxGraphIndex g, Dictionary<string, TracedLinear> byName, int layers, int width,
        Func<int, string> query, Func<int, string> fc1)
    {
        var heads = new List<(string, int)>();
        var acts = new List<(string, string)>();
        for (int i = 0; i < layers; i++)
        {
            var q = Linear(g, byName, query(i));
            var (h, _) = GraphHyperParameters.Attention(g, q.Output, q.Bias ?? q.Initializer, width);
            heads.Add((q.Bias ?? q.Initializer, h));
            var f = Linear(g, byName, fc1(i));
            acts.Add((f.Bias ?? f.Initializer, GraphHyperParameters.Activation(g, f.Output, f.Bias ?? f.Initializer)));
        }
        return (Same(g, heads, "attention heads"), Same(g, acts, "activation"));
    }

    private static ImportedConfig TextConfig(OnnxGraphIndex g, string p, Dictionary<string, TracedLinear> byName)
    {
        var word = Shape(g, p + "embeddings.word_embeddings.weight");
        int c = word[1];
        int layers = Layers(g, i => $"{p}encoder.layer.{i}.attention.output.LayerNorm.weight");
        int inter = layers > 0 ? Shape(g, $"{p}encoder.layer.0.intermediate.dense.bias")[0] : 4 * c;
        var norms = new List<string> { p + "embeddings.LayerNorm" };
        for (int i = 0; i < layers; i++) norms.AddRange([$"{p}encoder.layer.{i}.attention.output.LayerNorm", $"{p}encoder.layer.{i}.output.LayerNorm"]);
        var (heads, act) = Blocks(g, byName, layers, c, i => $"{p}encoder.layer.{i}.attention.self.query", i => $"{p}encoder.layer.{i}.intermediate.dense");
        return new ImportedConfig("bert", c, layers, heads, inter, act, Epsilon(g, norms), VocabSize: word[0],
            MaxPositions: Shape(g, p + "embeddings.position_embeddings.weight")[0], TypeVocabSize: Shape(g, p + "embeddings.token_type_embeddings.weight")[0],
            Pooler: g.TryGetInitializer(p + "pooler.dense.bias", out _));
    }

    private static ImportedConfig VisionConfig(OnnxGraphIndex g, string p, Dictionary<string, TracedLinear> byName, bool clip)
    {
        string patch = clip ? "vision_model.embeddings.patch_embedding.weight" : p + "embeddings.patch_embeddings.projection.weight";
        var conv = Shape(g, patch);
        if (conv.Length != 4 || conv[2] != conv[3])
            throw new OnnxImportException(g.Path, patch, $"has shape [{string.Join(", ", conv)}]; [hidden, channels, patch, patch] was expected.");
        var convNode = g.Consumers(patch).FirstOrDefault(n => n.OpType == "Conv")
            ?? throw new OnnxImportException(g.Path, patch, "is not read by a Conv node.");
        var strides = OnnxGraphIndex.Ints(convNode, "strides");
        if (strides is null || strides.Length != 2 || strides[0] != conv[2] || strides[1] != conv[2])
            throw new OnnxImportException(g.Path, patch, $"is applied with strides [{string.Join(", ", strides ?? [])}]; non-overlapping patches of {conv[2]} were expected.");
        int c = conv[0];
        int tokens = clip ? Shape(g, "vision_model.embeddings.position_embedding.weight")[0] : Shape(g, p + "embeddings.position_embeddings")[1];
        int grid = (int)Math.Round(Math.Sqrt(tokens - 1));
        if (grid * grid != tokens - 1)
            throw new OnnxImportException(g.Path, clip ? "vision_model.embeddings.position_embedding.weight" : p + "embeddings.position_embeddings",
                $"has {tokens} positions; a square grid of patches plus the class token was expected.");
        string Layer(int i) => clip ? $"vision_model.encoder.layers.{i}." : $"{p}encoder.layer.{i}.";
        int layers = Layers(g, i => Layer(i) + (clip ? "layer_norm1.weight" : "layernorm_before.weight"));
        int inter = layers > 0 ? Shape(g, Layer(0) + (clip ? "mlp.fc1.bias" : "intermediate.dense.bias"))[0] : 4 * c;
        var norms = new List<string>();
        if (clip) norms.AddRange(["vision_model.pre_layrnorm", "vision_model.post_layernorm"]);
        else norms.Add(p + "layernorm");
        for (int i = 0; i < layers; i++)
            norms.AddRange(clip ? [Layer(i) + "layer_norm1", Layer(i) + "layer_norm2"] : [Layer(i) + "layernorm_before", Layer(i) + "layernorm_after"]);
        var (heads, act) = Blocks(g, byName, layers, c, i => Layer(i) + (clip ? "self_attn.q_proj" : "attention.attention.query"),
            i => Layer(i) + (clip ? "mlp.fc1" : "intermediate.dense"));
        int projection = 0;
        if (clip && byName.TryGetValue("visual_projection.weight", out var proj))
        {
            var s = Shape(g, proj.Initializer);
            projection = proj.Transposed ? s[1] : s[0];
        }
        return new ImportedConfig(clip ? "clip_vision" : "vit", c, layers, heads, inter, act, Epsilon(g, norms),
            Pooler: !clip && g.TryGetInitializer(p + "pooler.dense.bias", out _), ImageSize: grid * conv[2], PatchSize: conv[2], NumChannels: conv[1],
            ProjectionDim: projection);
    }

    private static ImportedEncoder Collect(OnnxGraphIndex g, string prefix, ImportedConfig config, Dictionary<string, TracedLinear> linears)
    {
        string kind = config.Architecture;
        var output = new InMemoryCheckpoint(g.Path);
        var map = new List<ImportedTensor>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        void AddFloat(string name, int[] shape, string initializer, bool transposed)
        {
            g.TryGetInitializer(initializer, out var t);
            var stored = t.Shape;
            int[] seen = transposed ? [stored[1], stored[0]] : stored;
            if (!seen.SequenceEqual(shape))
                throw new OnnxImportException(g.Path, initializer, $"gives '{name}' shape [{string.Join(", ", seen)}]{(transposed ? " after transposition" : "")}; the configuration read from the graph needs [{string.Join(", ", shape)}].");
            var values = new float[t.ElementCount];
            g.Reader.ReadFloat32(t, values);
            if (transposed)
            {
                var flipped = new float[values.Length];                // (out, in) from (in, out)
                int rows = stored[0], cols = stored[1];
                for (int r = 0; r < rows; r++)
                    for (int col = 0; col < cols; col++) flipped[col * rows + r] = values[r * cols + col];
                values = flipped;
            }
            output.Add(name, shape, values);
            map.Add(new ImportedTensor(name, initializer, transposed));
            used.Add(initializer);
        }
        foreach (var (name, shape) in config.Layout(prefix))
        {
            if (linears.TryGetValue(name, out var l)) AddFloat(name, shape, l.Initializer, l.Transposed);
            else if (g.TryGetInitializer(name, out var t) && t.DType.IsFloatingPoint()) AddFloat(name, shape, name, false);
            else throw new OnnxImportException(g.Path, name, $"is part of the {kind} layout the graph describes but no initializer provides it.");
        }
        foreach (var head in new[] { "classifier.weight", "classifier.bias" })
        {
            if (linears.TryGetValue(head, out var l))
            {
                g.TryGetInitializer(l.Initializer, out var w);
                AddFloat(head, l.Transposed ? [w.Shape[1], w.Shape[0]] : w.Shape, l.Initializer, l.Transposed);
            }
            else if (g.TryGetInitializer(head, out var t) && t.DType.IsFloatingPoint()) AddFloat(head, t.Shape, head, false);
        }
        foreach (var t in g.Reader.Tensors)
        {
            if (used.Contains(t.Name)) continue;
            if (t.DType.IsFloatingPoint() && !IsScalarConstant(g, t))
                throw new OnnxImportException(g.Path, t.Name, t.Name.EndsWith(".classifier.weight", StringComparison.Ordinal) || t.Name.EndsWith(".classifier.bias", StringComparison.Ordinal)
                    ? $"is one of several tasks' heads (a multi-head export); import one task's graph (its own .onnx file) instead."
                    : $"is a floating-point initializer {t.ShapeText} that maps to no tensor of the {kind} layout.");
            if (t.DType.IsFloatingPoint()) continue;
            if (t.Name.EndsWith("position_ids", StringComparison.Ordinal) || t.Name.EndsWith("token_type_ids", StringComparison.Ordinal))
            {
                var raw = new byte[t.ByteLength];
                g.Reader.ReadRaw(t, raw);
                output.AddRaw(t.Name, t.Shape, t.DType, raw);
                continue;
            }
            if (!IsShapeConstant(g, t))
                throw new OnnxImportException(g.Path, t.Name, $"is a {t.DType} initializer {t.ShapeText} that is neither a position/type-id buffer nor a shape constant.");
        }
        output.WithMetadata("format", "pt").WithMetadata("source", Path.GetFileName(g.Path));
        return new ImportedEncoder(g.Path, config, output, map);
    }

    /// <summary>
    /// How a text graph with an <c>embedding</c> output (this project's exports) pools the hidden states: the masked mean
    /// (<c>Div</c> of two <c>ReduceSum</c>s), the first token (<c>Reshape</c> of a <c>Gather</c>) or the tanh pooler; null
    /// when the graph has no such output (a torch export of <c>BertModel</c> leaves pooling to its user).
    /// </summary>
    internal static GraphPooling? EmbeddingPooling(OnnxGraphIndex g)
    {
        if (g.Graph.Output.All(o => o.Name != "embedding") || g.Producer("embedding") is not { } node) return null;
        return node.OpType switch
        {
            "Div" when node.Input.All(i => g.Producer(i) is { OpType: "ReduceSum" }) => GraphPooling.Mean,
            "Reshape" when g.Producer(node.Input[0]) is { OpType: "Gather" } => GraphPooling.FirstToken,
            "Tanh" => GraphPooling.Pooler,
            _ => null,
        };
    }

    /// <summary>An integer initializer of at most 8 elements read only by shape arithmetic (the reshape targets and slice
    /// bounds torch stores as initializers).</summary>
    private static bool IsShapeConstant(OnnxGraphIndex g, TensorInfo t) =>
        t.ElementCount <= 8 && (t.DType is DType.I64 or DType.I32)
        && g.Consumers(t.Name).All(n => n.OpType is "Concat" or "Reshape" or "Slice" or "Unsqueeze" or "Squeeze" or "Expand" or "Gather"
            or "ConstantOfShape" or "Range" or "Equal" or "Where" or "Mul" or "Add" or "Sub" or "Div" or "Cast" or "ReduceSum" or "ReduceMean");

    /// <summary>A floating-point scalar read only by element-wise arithmetic: an attention scale, a GELU coefficient, a
    /// mask's fill value (exports that store them as initializers rather than Constant nodes, this project's own among them).</summary>
    private static bool IsScalarConstant(OnnxGraphIndex g, TensorInfo t) =>
        t.ElementCount == 1 && g.Consumers(t.Name).All(n => n.OpType is "Mul" or "Div" or "Add" or "Sub" or "Pow" or "Where" or "Max" or "Min");
}
