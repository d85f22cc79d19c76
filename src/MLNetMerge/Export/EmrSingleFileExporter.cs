using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.Export;

/// <summary>
/// EMR per-task deployment in one ONNX file: the pretrained weights θ0 and the unified task vector τuni stored once, each
/// task's 1-bit masks packed 8 per byte (least significant bit first, as MLNetMerge writes them) and the rescalers γ;
/// every task's weights are rebuilt in the graph, <c>θ̂t = θ0 + γt · (Mt ⊙ τuni)</c>, and run through the encoder and
/// the task's head. Unpacking uses opset-17 ops only: a 256×8 bit table <c>Gather</c>ed by the mask bytes (cast to
/// int32), flattened, sliced to the tensor's length and reshaped. The unpacking adds a zero computed from the batch size,
/// so the rebuilt weights depend on the input and ONNX Runtime recomputes them per run rather than constant-folding every
/// task's full weights into the session (which would cost more memory than T separate files). Outputs
/// <c>logits_{task}</c> and <c>embedding_{task}</c>.
/// Initializers: θ0 under the checkpoint names, τuni as <c>{name}.tau_uni</c>, masks as <c>masks.{task}.{name}</c> (uint8),
/// <c>rescalers</c> (T), <c>emr.bit_table</c> (256, 8).
/// </summary>
internal static class EmrSingleFileExporter
{
    public static ModelProto Build(object architecture, MergedModel model, ICheckpointReader baseModel, IReadOnlyList<OnnxHead> heads, OnnxExportOptions options)
    {
        if (model.Summary.Method.Name != "emr")
            throw new IncompatibleModelsException(null, null, $"a single-file per-task export needs EMR's masks and rescalers; {model.Summary.Method.Name} has none.");
        var g = new OnnxGraphBuilder();
        var tasks = model.TaskNames;
        model.Modulators.TryGetValue("rescalers", out var rescalers);
        string? gammas = rescalers is null ? null : g.Initializer("rescalers", rescalers, rescalers.Length);
        string? bitTable = null;
        var tauNames = new Dictionary<string, string>(StringComparer.Ordinal);

        string? Resolve(string name) =>
            OnnxExport.Key(model, name);

        float[]? Base(string key)
        {
            if (!baseModel.TryGetTensor(key, out var info))
                throw new IncompatibleModelsException(baseModel.Path, key, "is missing from the base model that EMR's per-task weights are built on.");
            var v = new float[info.ElementCount];
            baseModel.ReadFloat32(info, v);
            return v;
        }

        // A runtime zero (0 × batch size): adding it to the mask bytes ties every rebuilt weight to the input, so ONNX Runtime
        // rebuilds θ̂t per run instead of constant-folding all T tasks' weights (and their intermediates) into the session.
        string? runtimeZero = null;
        string RuntimeZero()
        {
            if (runtimeZero is not null) return runtimeZero;
            string firstInput = architecture is Nn.Architectures.TextEncoderConfig ? "input_ids" : "pixel_values";
            string batchSize = g.Node("Slice", [g.Node("Shape", [firstInput]), g.Int64s(0), g.Int64s(1)]);                   // (1,) = [B]
            return runtimeZero = g.Node("Cast", [g.Node("Mul", [batchSize, g.Int64s(0)])], OnnxGraphBuilder.Int("to", (int)TensorProto.Types.DataType.Int32));
        }

        string BitTable()
        {
            if (bitTable is not null) return bitTable;
            var table = new float[256 * 8];                       // (256, 8): table[v, j] = bit j of v
            for (int v = 0; v < 256; v++)
                for (int j = 0; j < 8; j++) table[v * 8 + j] = (v >> j) & 1;
            return bitTable = g.Initializer("emr.bit_table", table, 256, 8);
        }

        for (int t = 0; t < tasks.Count; t++)
        {
            string task = tasks[t];
            var cache = new Dictionary<string, string>(StringComparer.Ordinal);
            g.WeightValue = (name, shape) =>
            {
                if (cache.TryGetValue(name, out var done)) return done;
                string key = Resolve(name) ?? throw new IncompatibleModelsException(null, name, "is missing from the merged model being exported.");
                float[] theta0 = Base(key)!;
                string theta0Value = g.Initializer(name, theta0, shape);
                if (!tauNames.TryGetValue(name, out var tau))
                {
                    var unified = model.Tensors[key];
                    var tauValues = new float[unified.Length];                         // τuni = (θ0 + τuni) − θ0
                    System.Numerics.Tensors.TensorPrimitives.Subtract(unified, theta0, tauValues);
                    tauNames[name] = tau = g.Initializer(name + ".tau_uni", tauValues, shape);
                }
                string delta = tau;
                if (model.ModulatorBytes.TryGetValue($"masks.{task}.{key}", out var packed))
                {
                    int count = theta0.Length;
                    string maskName = g.RawInitializer($"masks.{task}.{name}", (int)TensorProto.Types.DataType.Uint8, packed, packed.Length);
                    string indices = g.Node("Add", [g.Node("Cast", [maskName], OnnxGraphBuilder.Int("to", (int)TensorProto.Types.DataType.Int32)), RuntimeZero()]); // (bytes)
                    string bits = g.Node("Gather", [BitTable(), indices], OnnxGraphBuilder.Int("axis", 0));                         // (bytes, 8)
                    bits = g.Node("Slice", [g.Node("Reshape", [bits, g.Int64s(-1)]), g.Int64s(0), g.Int64s(count)]);                // (N)
                    bits = g.Node("Reshape", [bits, g.Int64s(shape.Select(d => (long)d).ToArray())]);                                // shape
                    delta = g.Node("Mul", [bits, tau]);
                }
                if (gammas is not null) delta = g.Node("Mul", [delta, g.Node("Gather", [gammas, g.Int64s(t)], OnnxGraphBuilder.Int("axis", 0))]);
                return cache[name] = g.Node("Add", [theta0Value, delta]);
            };
            var (inputs, embedding, width) = OnnxExporter.Encoder(g, architecture, n => Resolve(n) is { } k ? model.Tensors[k] : null, options);
            if (t == 0) g.Graph.Input.AddRange(inputs);
            string emb = g.Rename(embedding, "embedding_" + task);
            g.Graph.Output.Add(OnnxGraphBuilder.FloatValue(emb, options.BatchDimension, width));
            OnnxExporter.AddHead(g, emb, width, heads[t], task + ".", "logits_" + task, options);
        }
        g.WeightValue = null;
        return OnnxExporter.Finish(g, options,
            "Exported by MLNetMerge: EMR-Merging per-task models in one file (θ0 and τuni once, packed masks and rescalers; θ̂t built in-graph).");
    }
}
