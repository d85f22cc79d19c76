using System.Numerics.Tensors;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Alignment;

/// <summary>The aligned-transformation family of Kong et al. 2024 (arXiv:2412.13526, Table 1), from loosest to tightest.</summary>
internal enum TransformKind
{
    /// <summary><c>W z + b</c>.</summary>
    Affine,
    /// <summary><c>W z</c>.</summary>
    Linear,
    /// <summary><c>W z</c> with W invertible.</summary>
    Invertible,
    /// <summary><c>Q z + b</c>, Q orthogonal.</summary>
    Euclidean,
    /// <summary><c>Q z</c>, Q orthogonal.</summary>
    Orthogonal,
    /// <summary><c>s ⊙ z</c>.</summary>
    Scaling,
}

/// <summary>
/// A fitted map of merged features to fine-tuned features, <c>y = W z + b</c> (W (E, E) row-major, out × in, as
/// PyTorch's Linear) or <c>y = s ⊙ z</c>; absent parts are null.
/// </summary>
/// <param name="Kind">The family member.</param>
/// <param name="Size">E.</param>
/// <param name="Weight">W (E, E), or null for scaling.</param>
/// <param name="Bias">b (E), or null.</param>
/// <param name="Scale">s (E) for scaling, else null.</param>
internal sealed record FeatureTransform(TransformKind Kind, int Size, float[]? Weight, float[]? Bias, float[]? Scale)
{
    /// <summary>Recipe names of the kinds, in <see cref="TransformKind"/> order.</summary>
    public static readonly string[] Names = ["affine", "linear", "invertible", "euclidean", "orthogonal", "scaling"];

    /// <summary>Whether the kind has a translation b.</summary>
    public static bool HasBias(TransformKind kind) => kind is TransformKind.Affine or TransformKind.Euclidean;

    /// <summary>The kind of a recipe name.</summary>
    /// <exception cref="RecipeException">Not one of <see cref="Names"/>.</exception>
    public static TransformKind Parse(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i >= 0 ? (TransformKind)i : throw new RecipeException(null, $"unknown transform '{name}'; expected {string.Join(", ", Names)}.");
    }

    /// <summary>The identity of a kind (training starts there).</summary>
    public static FeatureTransform Identity(TransformKind kind, int size)
    {
        if (kind == TransformKind.Scaling) return new FeatureTransform(kind, size, null, null, Enumerable.Repeat(1f, size).ToArray());
        var w = new float[size * size];                                   // (E, E)
        for (int i = 0; i < size; i++) w[i * size + i] = 1f;
        return new FeatureTransform(kind, size, w, HasBias(kind) ? new float[size] : null, null);
    }

    /// <summary>Applies the map to rows <paramref name="z"/> (N, E); returns (N, E).</summary>
    public float[] Apply(ReadOnlySpan<float> z, int n)
    {
        var y = new float[n * Size];                                      // (N, E)
        if (Scale is not null)
        {
            for (int i = 0; i < n; i++) TensorPrimitives.Multiply(z.Slice(i * Size, Size), Scale, y.AsSpan(i * Size, Size));
            return y;
        }
        Linear.Forward<float>(y, z[..(n * Size)], Weight!, Bias ?? [], n, Size, Size);
        return y;
    }

    /// <summary><c>‖WᵀW − I‖_F</c> (for scaling, of <c>diag(s²) − I</c>): 0 for an exactly orthogonal map.</summary>
    public double OrthogonalityDefect()
    {
        double sum = 0;
        if (Scale is not null)
        {
            foreach (float s in Scale) sum += (s * (double)s - 1) * (s * (double)s - 1);
            return Math.Sqrt(sum);
        }
        for (int i = 0; i < Size; i++)
            for (int j = 0; j < Size; j++)
            {
                double acc = 0;
                for (int l = 0; l < Size; l++) acc += (double)Weight![l * Size + i] * Weight[l * Size + j];
                if (i == j) acc -= 1;
                sum += acc * acc;
            }
        return Math.Sqrt(sum);
    }
}
