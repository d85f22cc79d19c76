using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Inference;

/// <summary>
/// A linear classification head <c>logits = e · Wᵀ + b</c> with W (K, E) and b (K), as task checkpoints store them
/// (<c>classifier.weight</c>, <c>head.weight</c>, or a file holding just <c>weight</c>/<c>bias</c>).
/// </summary>
internal sealed class LinearHead
{
    /// <summary>Creates a zero head for <paramref name="classes"/> classes over <paramref name="embeddingSize"/> features.</summary>
    public LinearHead(int embeddingSize, int classes, string prefix = "")
    {
        var layout = new ParameterLayout();
        layout.Add(prefix + "weight", classes, embeddingSize);
        layout.Add(prefix + "bias", classes);
        Parameters = new ParameterArena(layout);
        EmbeddingSize = embeddingSize;
        Classes = classes;
    }

    /// <summary>Weight then bias, named <c>prefix + weight</c> and <c>prefix + bias</c>.</summary>
    public ParameterArena Parameters { get; }

    /// <summary>E.</summary>
    public int EmbeddingSize { get; }

    /// <summary>K.</summary>
    public int Classes { get; }

    /// <summary>
    /// Reads a head from a checkpoint: the single 2-D floating-point tensor whose name ends in <c>weight</c>, and the
    /// <c>bias</c> beside it (zeros when the head has none).
    /// </summary>
    /// <exception cref="ArchitectureMismatchException">No or several candidate weights, or a bias of the wrong length.</exception>
    public static LinearHead Load(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var weights = reader.Tensors.Where(t => t.Shape.Length == 2 && t.Name.EndsWith("weight", StringComparison.Ordinal)).ToList();
        if (weights.Count != 1)
            throw new ArchitectureMismatchException(reader.Path, "linear head", weights.Count == 0 ? ["a 2-D *weight tensor"] : [],
                weights.Count > 1 ? weights.Select(w => w.Name).ToList() : [], []);
        var w = weights[0];
        string prefix = w.Name[..^"weight".Length];
        var head = new LinearHead(w.Shape[1], w.Shape[0], prefix);
        reader.ReadFloat32(w, head.Parameters.Value(0));
        if (reader.TryGetTensor(prefix + "bias", out var b))
        {
            if (b.ElementCount != w.Shape[0])
                throw new ArchitectureMismatchException(reader.Path, "linear head", [], [], [(b.Name, b.ShapeText, $"[{w.Shape[0]}]")]);
            reader.ReadFloat32(b, head.Parameters.Value(1));
        }
        return head;
    }

    /// <summary>Logits (N, K) of embeddings (N, E).</summary>
    public void Forward(Span<float> logits, ReadOnlySpan<float> embeddings, int n)
        => Linear.Forward<float>(logits, embeddings, Parameters.Value(0), Parameters.Value(1), n, EmbeddingSize, Classes);

    /// <summary>Backward: adds into ∂L/∂embeddings (N, E; empty to skip) and the head's gradients.</summary>
    public void Backward(Span<float> dEmbeddings, ReadOnlySpan<float> dLogits, ReadOnlySpan<float> embeddings, int n)
        => Linear.Backward<float>(dEmbeddings, Parameters.Gradient(0), Parameters.Gradient(1), dLogits, embeddings, Parameters.Value(0), n, EmbeddingSize, Classes);
}
