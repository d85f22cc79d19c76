using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using static MLNetMerge.Export.OnnxGraphBuilder;

namespace MLNetMerge.Export;

/// <summary>
/// <see cref="TextEncoder"/> (BERT, RoBERTa) as an ONNX graph from <c>input_ids</c> and <c>attention_mask</c> (int64, (B, T))
/// to the pooled embedding (B, C): <c>x = LN(word[id] + position[pos] + token_type[0])</c> → post-norm blocks
/// <c>h = LN1(x + O(Attn(x)))</c>, <c>y = LN2(h + FC2(act(FC1(h))))</c> with padded keys masked → <c>tanh(pooler(y[:,0]))</c>
/// or <c>y[:,0]</c>, or the mean over real tokens <c>e_b = Σ_t m_bt·y_bt / Σ_t m_bt</c> (sentence-transformers' pooling).
/// Positions: BERT <c>0…T−1</c>; RoBERTa <c>pad + cumsum(id ≠ pad)·(id ≠ pad)</c>. Token types are all 0.
/// </summary>
internal static class TextEncoderGraph
{
    public static (string Embedding, int Width) Build(OnnxGraphBuilder g, WeightSource w, TextEncoderConfig cfg, string ids, string attentionMask,
        TextPooling pooling = TextPooling.Pooler)
    {
        int c = cfg.HiddenSize;
        string word = g.Node("Gather", [g.Weight("embeddings.word_embeddings.weight", w, cfg.VocabSize, c), ids], Int("axis", 0)); // (B, T, C)
        string posTable = g.Weight("embeddings.position_embeddings.weight", w, cfg.MaxPositions, c);
        string pos;
        if (cfg.Flavor == TextFlavor.Bert)
        {
            string tokens = g.Node("Slice", [g.Node("Shape", [ids]), g.Int64s(1), g.Int64s(2)]);                                // (1,) = [T]
            pos = g.Node("Slice", [posTable, g.Int64s(0), tokens, g.Int64s(0)]);                                                   // (T, C)
        }
        else
        {
            string real = g.Node("Cast", [g.Node("Not", [g.Node("Equal", [ids, g.Int64s(cfg.PadTokenId)])])], Int("to", (int)TensorProto.Types.DataType.Int64));
            string count = g.Node("Mul", [g.Node("CumSum", [real, g.Int64s(1)]), real]);                                          // (B, T)
            pos = g.Node("Gather", [posTable, g.Node("Add", [count, g.Int64s(cfg.PadTokenId)])], Int("axis", 0));                  // (B, T, C)
        }
        string type0 = g.Node("Gather", [g.Weight("embeddings.token_type_embeddings.weight", w, cfg.TypeVocabSize, c), g.Int64s(0)], Int("axis", 0)); // (1, C)
        string x = g.Node("Add", [g.Node("Add", [word, pos]), type0]);
        x = OnnxLayers.LayerNorm(g, w, x, "embeddings.LayerNorm", c, cfg.LayerNormEps);
        string keyMask = g.Node("Cast", [g.Node("Unsqueeze", [attentionMask, g.Int64s(1, 2)])], Int("to", (int)TensorProto.Types.DataType.Bool)); // (B, 1, 1, T)

        for (int i = 0; i < cfg.NumLayers; i++)
        {
            string L(string s) => $"encoder.layer.{i}.{s}";
            string Proj(string name) => OnnxLayers.Linear(g, w, x, L(name) + ".weight", L(name) + ".bias", c, c);
            string att = OnnxLayers.Attention(g, Proj("attention.self.query"), Proj("attention.self.key"), Proj("attention.self.value"), c, cfg.NumHeads, keyMask);
            string s1 = g.Node("Add", [OnnxLayers.Linear(g, w, att, L("attention.output.dense.weight"), L("attention.output.dense.bias"), c, c), x]);
            string h = OnnxLayers.LayerNorm(g, w, s1, L("attention.output.LayerNorm"), c, cfg.LayerNormEps);
            string act = OnnxLayers.Activation(g, cfg.Activation, OnnxLayers.Linear(g, w, h, L("intermediate.dense.weight"), L("intermediate.dense.bias"), cfg.IntermediateSize, c));
            string s2 = g.Node("Add", [OnnxLayers.Linear(g, w, act, L("output.dense.weight"), L("output.dense.bias"), c, cfg.IntermediateSize), h]);
            x = OnnxLayers.LayerNorm(g, w, s2, L("output.LayerNorm"), c, cfg.LayerNormEps);
        }
        if (pooling == TextPooling.Mean)
        {
            string m = g.Node("Unsqueeze", [g.Node("Cast", [attentionMask], Int("to", (int)TensorProto.Types.DataType.Float)), g.Int64s(2)]); // (B, T, 1)
            string sum = g.Node("ReduceSum", [g.Node("Mul", [x, m]), g.Int64s(1)], Int("keepdims", 0));                             // (B, C)
            string count = g.Node("ReduceSum", [m, g.Int64s(1)], Int("keepdims", 0));                                                // (B, 1)
            return (g.Node("Div", [sum, count]), c);
        }
        string cls = g.Node("Reshape", [g.Node("Gather", [x, g.Int64s(0)], Int("axis", 1)), g.Int64s(0, c)]);                      // (B, C)
        if (!cfg.Pooler || pooling == TextPooling.Cls) return (cls, c);
        return (g.Node("Tanh", [OnnxLayers.Dense2D(g, w, cls, "pooler.dense.weight", "pooler.dense.bias", c, c)]), c);
    }
}
