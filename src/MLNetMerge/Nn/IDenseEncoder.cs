namespace MLNetMerge.Nn;

/// <summary>
/// An encoder over dense float inputs (images for ViT/CLIP/OpenCLIP, feature vectors for the MLP) that maps each
/// example to one embedding and can differentiate through it.
/// </summary>
internal interface IDenseEncoder
{
    /// <summary>Architecture name (<c>vit</c>, <c>clip_vision</c>, <c>openclip_visual</c>, <c>mlp</c>).</summary>
    string ArchitectureName { get; }

    /// <summary>Parameters and gradients.</summary>
    ParameterArena Parameters { get; }

    /// <summary>Floats per input example (e.g. C·H·W).</summary>
    int InputSize { get; }

    /// <summary>Floats per embedding.</summary>
    int EmbeddingSize { get; }

    /// <summary>Runs a batch of <paramref name="batch"/> examples, (B, InputSize).</summary>
    void Forward(ReadOnlySpan<float> input, int batch);

    /// <summary>The embeddings (B, EmbeddingSize) of the latest forward pass.</summary>
    ReadOnlySpan<float> Embedding(int batch);

    /// <summary>Backward of the latest forward pass from ∂L/∂embedding (B, EmbeddingSize); adds into the parameter gradients.</summary>
    void BackwardFromEmbedding(ReadOnlySpan<float> dEmbedding, int batch);
}
