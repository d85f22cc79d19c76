using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Checkpoints.Onnx;

namespace MLNetMerge.Export;

/// <summary>A classification head exported on top of the embedding z: <c>logits = z Wᵀ + b</c>, or with a surgery
/// module <c>logits = (z − ReLU(z Aᵀ) Bᵀ) Wᵀ + b</c>.</summary>
/// <param name="Task">The task's name (used in multi-head output and initializer names).</param>
/// <param name="Weight">W (classes, E), row-major.</param>
/// <param name="Bias">b (classes), or null for none.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Adapter">The task's Representation Surgery module (A (r, E), B (E, r)), or null.</param>
internal sealed record OnnxHead(string Task, float[] Weight, float[]? Bias, int Classes, Alignment.SurgeryAdapter? Adapter = null);

/// <summary>
/// Builds ONNX models (opset 17, IR 8) of the engine's encoders with classification heads: input <c>pixel_values</c>
/// ((batch, channels, size, size) for vision encoders, (batch, features) for the MLP), or int64 <c>input_ids</c> and
/// <c>attention_mask</c> ((batch, sequence), 1 for real tokens) for BERT and RoBERTa; outputs <c>embedding</c> (batch, E)
/// and <c>logits</c> (batch, classes) — or, with several heads, <c>logits_{task}</c> each. The batch axis is symbolic.
/// Encoder weights keep their checkpoint names; heads are named <c>classifier.weight</c>/<c>classifier.bias</c> in a
/// single-head model and <c>{task}.classifier.weight</c>/<c>{task}.classifier.bias</c> in a multi-head one.
/// </summary>
internal static class OnnxExporter
{
    /// <summary>The opset the exported graphs use.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version written (the one that goes with opset 17).</summary>
    public const int IrVersion = 8;

    /// <summary>Writes one model with the given heads to <paramref name="path"/>; returns the files written.</summary>
    /// <param name="architecture">A <see cref="VisionTransformerConfig"/>, a <see cref="TextEncoderConfig"/> or an <see cref="MlpConfig"/>.</param>
    /// <param name="weights">The encoder's weights by checkpoint name (null when absent).</param>
    /// <param name="heads">One head (output <c>logits</c>) or several (outputs <c>logits_{task}</c>).</param>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="options">Export options (batch axis name, write options).</param>
    /// <exception cref="ArgumentException">An unknown architecture, no heads, or a head whose width differs from the embedding's.</exception>
    /// <exception cref="IncompatibleModelsException">A weight the architecture needs is missing or has the wrong size.</exception>
    public static IReadOnlyList<string> Export(object architecture, Func<string, float[]?> weights, IReadOnlyList<OnnxHead> heads, string path, OnnxExportOptions? options = null)
    {
        var model = Build(architecture, weights, heads, options ?? new OnnxExportOptions());
        return OnnxModelWriter.Save(model, path, (options ?? new OnnxExportOptions()).Write);
    }

    internal static ModelProto Build(object architecture, Func<string, float[]?> weights, IReadOnlyList<OnnxHead> heads, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (heads.Count == 0) throw new ArgumentException("an ONNX export needs at least one head.", nameof(heads));
        var g = new OnnxGraphBuilder();
        var (inputs, embedding, width) = Encoder(g, architecture, weights, options);
        g.Graph.Input.AddRange(inputs);
        string embeddingOut = g.Rename(embedding, "embedding");
        g.Graph.Output.Add(OnnxGraphBuilder.FloatValue("embedding", options.BatchDimension, width));
        bool single = heads.Count == 1;
        foreach (var h in heads)
            AddHead(g, embeddingOut, width, h, single ? "" : h.Task + ".", single ? "logits" : "logits_" + h.Task, options);
        return Finish(g, options);
    }

    /// <summary>Adds the encoder from its inputs to its embedding; returns the input declarations, the embedding value and its width.</summary>
    internal static (ValueInfoProto[] Inputs, string Embedding, int Width) Encoder(OnnxGraphBuilder g, object architecture, Func<string, float[]?> weights, OnnxExportOptions options)
    {
        string batch = options.BatchDimension;
        if (options.PixelMean is not null || options.PixelStd is not null)
            PixelNormalizationGraph.Check(architecture, options);
        float[] Need(string name) => weights(name) ?? throw new IncompatibleModelsException(null, name, "is missing from the model being exported.");
        switch (architecture)
        {
            case VisionTransformerConfig vit:
            {
                vit.Validate();
                var cfg = vit.Flavor switch
                {
                    VisionFlavor.Vit => vit with { Pooler = weights("pooler.dense.weight") is not null },
                    VisionFlavor.ClipVision => vit with { ProjectionDim = weights("visual_projection.weight") is { } proj ? proj.Length / vit.HiddenSize : 0 },
                    _ => vit with { ProjectionDim = weights("visual.proj") is { } oproj ? oproj.Length / vit.HiddenSize : 0 },
                };
                var input = OnnxGraphBuilder.FloatValue("pixel_values", batch, cfg.NumChannels, cfg.ImageSize, cfg.ImageSize);
                var (e, w) = EncoderGraphs.Vision(g, Checked(Need), cfg, PixelNormalizationGraph.Prepend(g, "pixel_values", options));
                return ([input], e, w);
            }
            case TextEncoderConfig text:
            {
                var cfg = text with { Pooler = weights("pooler.dense.weight") is not null };
                var (e, w) = TextEncoderGraph.Build(g, Checked(Need), cfg, "input_ids", "attention_mask", options.TextPooling ?? TextPooling.Pooler);
                return ([OnnxGraphBuilder.Int64Value("input_ids", batch, "sequence"), OnnxGraphBuilder.Int64Value("attention_mask", batch, "sequence")], e, w);
            }
            case MlpConfig mlp:
            {
                var input = OnnxGraphBuilder.FloatValue("pixel_values", batch, mlp.InputSize);
                var (e, w) = EncoderGraphs.Mlp(g, Checked(Need), mlp, "pixel_values");
                return ([input], e, w);
            }
            default:
                throw new ArgumentException($"cannot export architecture {architecture.GetType().Name}; expected VisionTransformerConfig, TextEncoderConfig or MlpConfig.", nameof(architecture));
        }
    }

    /// <summary>Adds <c>logits = embedding Wᵀ + b</c> as graph output <paramref name="outputName"/>, head initializers prefixed by <paramref name="prefix"/>.</summary>
    internal static void AddHead(OnnxGraphBuilder g, string embedding, int width, OnnxHead h, string prefix, string outputName, OnnxExportOptions options)
    {
        if (h.Weight.Length != h.Classes * width)
            throw new ArgumentException($"head of task '{h.Task}' has {h.Weight.Length} weights; {h.Classes} classes × embedding width {width} expected.", nameof(h));
        string features = h.Adapter is { } adapter ? AddSurgery(g, embedding, width, adapter, prefix, h.Task) : embedding;
        var inputs = new List<string> { features, g.Initializer(prefix + options.HeadWeight, h.Weight, h.Classes, width) };
        if (h.Bias is not null) inputs.Add(g.Initializer(prefix + options.HeadBias, h.Bias, h.Classes));
        string logits = g.Node("Gemm", inputs.ToArray(), OnnxGraphBuilder.Int("transB", 1));
        g.Rename(logits, outputName);
        g.Graph.Output.Add(OnnxGraphBuilder.FloatValue(outputName, options.BatchDimension, h.Classes));
    }

    /// <summary>Adds <c>z' = z − ReLU(z Aᵀ) Bᵀ</c> (Gemm, Relu, Gemm, Sub) on the embedding z (batch, E); initializers
    /// <c>{prefix}surgery.down.weight</c> (r, E) and <c>{prefix}surgery.up.weight</c> (E, r). Returns z'.</summary>
    /// <exception cref="ArgumentException">The module's sizes do not fit the embedding width.</exception>
    private static string AddSurgery(OnnxGraphBuilder g, string embedding, int width, Alignment.SurgeryAdapter adapter, string prefix, string task)
    {
        int r = adapter.Rank;
        if (r < 1 || adapter.Down.Length != r * width || adapter.Up.Length != width * r)
            throw new ArgumentException($"the surgery module of task '{task}' has {adapter.Down.Length} + {adapter.Up.Length} weights; rank {r} × embedding width {width} each expected.", nameof(adapter));
        string down = g.Initializer(prefix + "surgery.down.weight", adapter.Down, r, width);
        string up = g.Initializer(prefix + "surgery.up.weight", adapter.Up, width, r);
        string h = g.Node("Gemm", [embedding, down], OnnxGraphBuilder.Int("transB", 1));                  // (batch, r)
        string a = g.Node("Relu", [h]);                                                                  // (batch, r)
        string y = g.Node("Gemm", [a, up], OnnxGraphBuilder.Int("transB", 1));                           // (batch, E)
        return g.Node("Sub", [embedding, y]);                                                            // (batch, E)
    }

    /// <summary>Wraps the graph in a model: IR 8, opset 17, producer.</summary>
    internal static ModelProto Finish(OnnxGraphBuilder g, OnnxExportOptions options, string doc = "Exported by MLNetMerge: encoder + classification head(s).")
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = options.Write.ProducerName, ProducerVersion = OnnxFormat.ProducerVersion, Graph = g.Graph, DocString = doc,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static WeightSource Checked(Func<string, float[]> need) => name => need(name);
}
