using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MLNetMerge.Nn.Layers;

/// <summary>The element-wise non-linearities of the supported encoders (Hugging Face <c>hidden_act</c> names in brackets).</summary>
internal enum ActivationKind
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

/// <summary>
/// Forward/backward of the element-wise activations; backward adds <c>dy · f'(x)</c> into dx. float32 runs vectorised
/// chunk kernels (<see cref="VectorActivations"/>, erf by A&amp;S 7.1.26); float64 runs the scalar loops here with the exact erf.
/// </summary>
internal static class Activation
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
        _ => throw new ArgumentException($"'hidden_act' is '{hiddenAct}', an activation the engine does not run; expected gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu or tanh."),
    };

    /// <summary>Forward pass <c>y = f(x)</c>.</summary>
    /// <param name="kind">The activation.</param>
    /// <param name="y">Output (N) — may not alias <paramref name="x"/>.</param>
    /// <param name="x">Input (N).</param>
    public static void Forward<T>(ActivationKind kind, Span<T> y, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        if (typeof(T) == typeof(float) && kind == ActivationKind.GeluErf)
        {
            GeluErfKernel.Forward(MemoryMarshal.Cast<T, float>(y)[..n], MemoryMarshal.Cast<T, float>(x));
            return;
        }
        switch (kind)
        {
            case ActivationKind.GeluErf:
            {
                T half = T.CreateTruncating(0.5), invSqrt2 = T.CreateTruncating(InvSqrt2);
                for (int i = 0; i < n; i++)
                {
                    T v = x[i];
                    y[i] = half * v * (T.One + SpecialFunctions.Erf(v * invSqrt2));
                }
                break;
            }
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
            case ActivationKind.QuickGelu when typeof(T) == typeof(float):
                VectorActivations.QuickGeluForward(MemoryMarshal.Cast<T, float>(y)[..n], MemoryMarshal.Cast<T, float>(x));
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
        if (typeof(T) == typeof(float) && kind != ActivationKind.Relu)
        {
            var fdx = MemoryMarshal.Cast<T, float>(dx)[..n];
            var fdy = MemoryMarshal.Cast<T, float>(dy)[..n];
            var fx = MemoryMarshal.Cast<T, float>(x);
            switch (kind)
            {
                case ActivationKind.GeluErf: GeluErfKernel.Backward(fdx, fdy, fx); return;
                case ActivationKind.GeluTanh: VectorActivations.GeluTanhBackward(fdx, fdy, fx); return;
                case ActivationKind.QuickGelu: VectorActivations.QuickGeluBackward(fdx, fdy, fx); return;
                case ActivationKind.Tanh: VectorActivations.TanhBackward(fdx, fdy, fx); return;
            }
        }
        T half = T.CreateTruncating(0.5), invSqrt2 = T.CreateTruncating(InvSqrt2), invSqrt2Pi = T.CreateTruncating(InvSqrt2Pi);
        T c = T.CreateTruncating(GeluTanhCoeff), c3 = T.CreateTruncating(3 * GeluTanhCoeff), k = T.CreateTruncating(SqrtTwoOverPi);
        T q = T.CreateTruncating(QuickGeluCoeff);
        switch (kind)
        {
            case ActivationKind.GeluErf:
                // f' = (1 + erf(x/√2))/2 + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
                for (int i = 0; i < n; i++)
                {
                    T v = x[i];
                    dx[i] += dy[i] * (half * (T.One + SpecialFunctions.Erf(v * invSqrt2)) + v * invSqrt2Pi * T.Exp(-half * v * v));
                }
                break;
            case ActivationKind.GeluTanh:
                // f' = (1 + t)/2 + x/2 · (1 − t²) · √(2/π)(1 + 3·0.044715x²),  t = tanh(√(2/π)(x + 0.044715x³))
                for (int i = 0; i < n; i++)
                {
                    T v = x[i];
                    T t = T.Tanh(k * (v + c * v * v * v));
                    dx[i] += dy[i] * (half * (T.One + t) + half * v * (T.One - t * t) * k * (T.One + c3 * v * v));
                }
                break;
            case ActivationKind.QuickGelu:
                // f' = s + 1.702·x·s·(1 − s),  s = σ(1.702x)
                for (int i = 0; i < n; i++)
                {
                    T v = x[i];
                    T s = T.One / (T.One + T.Exp(-q * v));
                    dx[i] += dy[i] * (s + q * v * s * (T.One - s));
                }
                break;
            case ActivationKind.Relu:
                for (int i = 0; i < n; i++) if (x[i] > T.Zero) dx[i] += dy[i];
                break;
            case ActivationKind.Tanh:
                for (int i = 0; i < n; i++)
                {
                    T t = T.Tanh(x[i]);
                    dx[i] += dy[i] * (T.One - t * t);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
