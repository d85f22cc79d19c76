using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>The element-wise non-linearities of the supported encoders (Hugging Face <c>hidden_act</c> names in brackets).</summary>
public enum ActivationKind
{
    /// <summary>GELU, exact erf form [<c>gelu</c>]: <c>y = x/2 · (1 + erf(x/√2))</c>.</summary>
    GeluErf,
    /// <summary>GELU, tanh approximation [<c>gelu_new</c>, <c>gelu_pytorch_tanh</c>]: <c>y = x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))</c>.</summary>
    GeluTanh,
    /// <summary>QuickGELU of CLIP [<c>quick_gelu</c>]: <c>y = x·σ(1.702x)</c>.</summary>
    QuickGelu,
    /// <summary>ReLU [<c>relu</c>]: <c>y = max(x, 0)</c>.</summary>
    Relu,
    /// <summary>Hyperbolic tangent [<c>tanh</c>], used by the BERT/ViT pooler.</summary>
    Tanh,
}

/// <summary>Forward/backward of the element-wise activations; backward adds <c>dy · f'(x)</c> into dx.</summary>
public static class Activation
{
    private const double SqrtTwoOverPi = 0.7978845608028654; // √(2/π)
    private const double InvSqrt2 = 0.7071067811865476;      // 1/√2
    private const double InvSqrt2Pi = 0.3989422804014327;    // 1/√(2π)
    private const double GeluTanhCoeff = 0.044715;
    private const double QuickGeluCoeff = 1.702;

    /// <summary>Parses a Hugging Face <c>hidden_act</c> value.</summary>
    /// <exception cref="ArgumentException">The name is not one of the supported activations.</exception>
    public static ActivationKind Parse(string hiddenAct) => hiddenAct switch
    {
        "gelu" => ActivationKind.GeluErf,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => ActivationKind.GeluTanh,
        "quick_gelu" => ActivationKind.QuickGelu,
        "relu" => ActivationKind.Relu,
        "tanh" => ActivationKind.Tanh,
        _ => throw new ArgumentException($"unsupported activation '{hiddenAct}'; expected gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu or tanh.", nameof(hiddenAct)),
    };

    /// <summary>Forward pass <c>y = f(x)</c>.</summary>
    /// <param name="kind">The activation.</param>
    /// <param name="y">Output (N) — may not alias <paramref name="x"/>.</param>
    /// <param name="x">Input (N).</param>
    public static void Forward<T>(ActivationKind kind, Span<T> y, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        switch (kind)
        {
            case ActivationKind.GeluErf:
                for (int i = 0; i < n; i++)
                {
                    double v = double.CreateTruncating(x[i]);
                    y[i] = T.CreateTruncating(0.5 * v * (1.0 + SpecialFunctions.Erf(v * InvSqrt2)));
                }
                break;
            case ActivationKind.GeluTanh:
                // u = √(2/π)(x + 0.044715x³); y = x/2 · (1 + tanh u)
                TensorPrimitives.Multiply(x, x, y[..n]);
                TensorPrimitives.Multiply(y[..n], T.CreateTruncating(GeluTanhCoeff), y[..n]);
                TensorPrimitives.Add(y[..n], T.One, y[..n]);
                TensorPrimitives.Multiply(y[..n], x, y[..n]);
                TensorPrimitives.Multiply(y[..n], T.CreateTruncating(SqrtTwoOverPi), y[..n]);
                TensorPrimitives.Tanh<T>(y[..n], y[..n]);
                TensorPrimitives.Add(y[..n], T.One, y[..n]);
                TensorPrimitives.Multiply(y[..n], x, y[..n]);
                TensorPrimitives.Multiply(y[..n], T.CreateTruncating(0.5), y[..n]);
                break;
            case ActivationKind.QuickGelu:
                TensorPrimitives.Multiply(x, T.CreateTruncating(QuickGeluCoeff), y[..n]);
                TensorPrimitives.Sigmoid<T>(y[..n], y[..n]);
                TensorPrimitives.Multiply(y[..n], x, y[..n]);
                break;
            case ActivationKind.Relu:
                TensorPrimitives.Max(x, T.Zero, y[..n]);
                break;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh<T>(x, y[..n]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>Backward pass <c>dx += dy · f'(x)</c>.</summary>
    /// <param name="kind">The activation.</param>
    /// <param name="dx">Input gradient (N).</param>
    /// <param name="dy">Output gradient (N).</param>
    /// <param name="x">Forward input (N).</param>
    public static void Backward<T>(ActivationKind kind, Span<T> dx, ReadOnlySpan<T> dy, ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        for (int i = 0; i < n; i++)
        {
            double v = double.CreateTruncating(x[i]);
            double d;
            switch (kind)
            {
                case ActivationKind.GeluErf:
                    // f' = (1 + erf(x/√2))/2 + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
                    d = 0.5 * (1.0 + SpecialFunctions.Erf(v * InvSqrt2)) + v * InvSqrt2Pi * Math.Exp(-0.5 * v * v);
                    break;
                case ActivationKind.GeluTanh:
                {
                    // f' = (1 + t)/2 + x/2 · (1 − t²) · √(2/π)(1 + 3·0.044715x²),  t = tanh u
                    double t = Math.Tanh(SqrtTwoOverPi * (v + GeluTanhCoeff * v * v * v));
                    d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SqrtTwoOverPi * (1.0 + 3.0 * GeluTanhCoeff * v * v);
                    break;
                }
                case ActivationKind.QuickGelu:
                {
                    // f' = s + 1.702·x·s·(1 − s),  s = σ(1.702x)
                    double s = 1.0 / (1.0 + Math.Exp(-QuickGeluCoeff * v));
                    d = s + QuickGeluCoeff * v * s * (1.0 - s);
                    break;
                }
                case ActivationKind.Relu:
                    d = v > 0 ? 1.0 : 0.0;
                    break;
                case ActivationKind.Tanh:
                {
                    double t = Math.Tanh(v);
                    d = 1.0 - t * t;
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind));
            }
            dx[i] += dy[i] * T.CreateTruncating(d);
        }
    }
}
