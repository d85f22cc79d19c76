using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Evaluation;

/// <summary>
/// Runs any <see cref="IDenseEncoder"/> (ViT, CLIP vision, MLP, a text encoder over token-id rows) over a dataset in
/// batches and returns <c>f(x)</c>, the embedding that feeds the head, for every example. Weights come from any
/// name → values lookup (a checkpoint, a merged model's per-task tensors), so the same encoder object evaluates many
/// weight sets without re-planning its buffers.
/// </summary>
public sealed class DatasetEncoder
{
    private readonly IDenseEncoder _model;

    /// <summary>Creates an encoder for a ViT <paramref name="config"/> (weights zero until <see cref="SetWeights"/>).</summary>
    public DatasetEncoder(VisionTransformerConfig config) => _model = new VisionTransformer(config);

    /// <summary>Wraps an existing model (its current weights are used).</summary>
    public DatasetEncoder(IDenseEncoder model) => _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The model.</summary>
    public IDenseEncoder Model => _model;

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
    /// <param name="data">Examples of <see cref="IDenseEncoder.InputSize"/> values each.</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="ArgumentException">Examples of the wrong size.</exception>
    public float[] Embed(TaskDataset data, int batchSize = 128, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        int e = EmbeddingSize, len = data.FeatureLength;
        if (len != _model.InputSize) throw new ArgumentException($"task '{data.Name}' has examples of {len} values; the {_model.ArchitectureName} encoder expects {_model.InputSize}.");
        var result = new float[data.Count * e];                          // (N, E)
        for (int start = 0; start < data.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(batchSize, data.Count - start);
            _model.Forward(data.Features.AsSpan(start * len, b * len), b);
            _model.Embedding(b).CopyTo(result.AsSpan(start * e, b * e));
        }
        return result;
    }
}
