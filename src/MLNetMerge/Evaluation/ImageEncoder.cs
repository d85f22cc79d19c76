using MLNetMerge.Data;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Evaluation;

/// <summary>
/// Runs a <see cref="VisionTransformer"/> over a dataset in batches and returns <c>f(x)</c>, the embedding that feeds
/// the head, for every example. Weights come from any name → values lookup (a checkpoint, a merged model's per-task
/// tensors), so the same encoder object evaluates many weight sets without re-planning its buffers.
/// </summary>
public sealed class ImageEncoder
{
    private readonly VisionTransformer _model;

    /// <summary>Creates an encoder for <paramref name="config"/> (weights zero until <see cref="SetWeights"/>).</summary>
    public ImageEncoder(VisionTransformerConfig config) => _model = new VisionTransformer(config);

    /// <summary>Wraps an existing model (its current weights are used).</summary>
    public ImageEncoder(VisionTransformer model) => _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The model.</summary>
    public VisionTransformer Model => _model;

    /// <summary>Width E of the embeddings.</summary>
    public int EmbeddingSize => _model.EmbeddingSize;

    /// <summary>Copies every parameter from <paramref name="lookup"/>, called with each layout name (without any prefix).</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong length.</exception>
    public void SetWeights(Func<string, float[]> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var p = _model.Parameters;
        for (int i = 0; i < p.Layout.Entries.Count; i++)
        {
            var e = p.Layout.Entries[i];
            var v = lookup(e.Name);
            if (v.Length != e.Length) throw new ArgumentException($"tensor '{e.Name}' has {v.Length} values; the architecture expects {e.ShapeText}.");
            v.CopyTo(p.Value(i));
        }
    }

    /// <summary>Embeddings (N, E) of every example of <paramref name="data"/>.</summary>
    /// <param name="data">Images (N, C, H, W) matching the model's input.</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    public float[] Embed(TaskDataset data, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(data);
        int e = EmbeddingSize, len = data.FeatureLength;
        var cfg = _model.Config;
        int expected = cfg.NumChannels * cfg.ImageSize * cfg.ImageSize;
        if (len != expected) throw new ArgumentException($"task '{data.Name}' has examples of {len} values; the encoder expects {cfg.NumChannels}×{cfg.ImageSize}×{cfg.ImageSize} = {expected}.");
        var result = new float[data.Count * e];                          // (N, E)
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int b = Math.Min(batchSize, data.Count - start);
            _model.Forward(data.Features.AsSpan(start * len, b * len), b);
            _model.Embedding(b).CopyTo(result.AsSpan(start * e, b * e));
        }
        return result;
    }
}
