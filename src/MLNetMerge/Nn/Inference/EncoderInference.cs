using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Inference;

/// <summary>Batched inference: embeddings of a whole data set, and class scores through a linear head.</summary>
internal static class EncoderInference
{
    /// <summary>Embeds <paramref name="count"/> examples (count, InputSize) in batches; returns (count, EmbeddingSize).</summary>
    /// <param name="model">The encoder.</param>
    /// <param name="inputs">Examples back to back.</param>
    /// <param name="count">Number of examples.</param>
    /// <param name="batchSize">Examples per forward pass (activations are reused across batches).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static float[] Embed(IDenseEncoder model, ReadOnlySpan<float> inputs, int count, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int d = model.InputSize, e = model.EmbeddingSize;
        if ((long)count * d != inputs.Length)
            throw new ArgumentException($"expected {count} examples of {d} values ({(long)count * d}), got {inputs.Length}.", nameof(inputs));
        var output = new float[(long)count * e];
        // Over several batches each weight is packed for the GEMM once (FrozenWeights), not in every batch.
        using var frozen = count > batchSize ? FrozenWeights.Begin(model.Parameters) : null;
        for (int start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, count - start);
            model.Forward(inputs.Slice(start * d, b * d), b);
            model.Embedding(b).CopyTo(output.AsSpan(start * e, b * e));
        }
        return output;
    }

    /// <summary>Embeds <paramref name="count"/> token sequences of <paramref name="tokens"/> ids; returns (count, C).</summary>
    /// <param name="model">BERT or RoBERTa.</param>
    /// <param name="ids">Token ids (count, T).</param>
    /// <param name="mask">Attention mask (count, T), true = real token; empty = all real.</param>
    /// <param name="count">Number of sequences.</param>
    /// <param name="tokens">T.</param>
    /// <param name="pooling">How to pool the hidden states.</param>
    /// <param name="batchSize">Sequences per forward pass.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static float[] EmbedText(TextEncoder model, ReadOnlySpan<int> ids, ReadOnlySpan<bool> mask, int count, int tokens,
        TextPooling pooling = TextPooling.Pooler, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if ((long)count * tokens != ids.Length) throw new ArgumentException($"expected {count}×{tokens} token ids, got {ids.Length}.", nameof(ids));
        if (!mask.IsEmpty && mask.Length != ids.Length) throw new ArgumentException($"the mask has {mask.Length} entries; the ids {ids.Length}.", nameof(mask));
        int c = model.EmbeddingSize;
        var output = new float[(long)count * c];
        using var frozen = count > batchSize ? FrozenWeights.Begin(model.Parameters) : null;
        for (int start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, count - start);
            var m = mask.IsEmpty ? default : mask.Slice(start * tokens, b * tokens);
            model.Forward(ids.Slice(start * tokens, b * tokens), m, default, b, tokens);
            var dst = output.AsSpan(start * c, b * c);
            switch (pooling)
            {
                case TextPooling.Pooler: model.Embedding.CopyTo(dst); break;
                case TextPooling.Cls: Pooling.ClsForward<float>(dst, model.Hidden, b, tokens, c); break;
                case TextPooling.Mean: Pooling.MeanForward<float>(dst, model.Hidden, m, b, tokens, c); break;
                default: throw new ArgumentOutOfRangeException(nameof(pooling));
            }
        }
        return output;
    }

    /// <summary>Class scores (count, K) of embeddings (count, E) through <paramref name="head"/>.</summary>
    public static float[] Classify(LinearHead head, ReadOnlySpan<float> embeddings, int count)
    {
        ArgumentNullException.ThrowIfNull(head);
        if ((long)count * head.EmbeddingSize != embeddings.Length)
            throw new ArgumentException($"the head expects {head.EmbeddingSize}-wide embeddings; got {embeddings.Length} values for {count} examples.", nameof(embeddings));
        var logits = new float[(long)count * head.Classes];
        head.Forward(logits, embeddings, count);
        return logits;
    }
}
