using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Losses;

/// <summary>
/// Element-wise regression losses with PyTorch's mean reduction over all N elements.
/// MSE: <c>L = (1/N) Σ (x − y)²</c>, <c>∂L/∂x = 2(x − y)/N</c>. L1: <c>L = (1/N) Σ |x − y|</c>, <c>∂L/∂x = sign(x − y)/N</c> (0 at a tie).
/// The target gradient is the negation of the input gradient.
/// </summary>
internal static class Regression
{
    /// <summary>Mean squared error.</summary>
    /// <param name="x">Predictions (N).</param>
    /// <param name="y">Targets (N).</param>
    public static T MseForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        for (int i = 0; i < x.Length; i++) { T d = x[i] - y[i]; s += d * d; }
        return s / T.CreateTruncating(x.Length);
    }

    /// <summary>MSE backward; adds into either gradient (an empty span is skipped).</summary>
    /// <param name="dx">Prediction gradient (N), or empty.</param>
    /// <param name="dy">Target gradient (N), or empty.</param>
    /// <param name="x">Predictions (N).</param>
    /// <param name="y">Targets (N).</param>
    /// <param name="scale">Upstream gradient.</param>
    public static void MseBackward<T>(Span<T> dx, Span<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> y, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = (scale + scale) / T.CreateTruncating(x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            T g = s * (x[i] - y[i]);
            if (!dx.IsEmpty) dx[i] += g;
            if (!dy.IsEmpty) dy[i] -= g;
        }
    }

    /// <summary>Mean absolute error.</summary>
    /// <param name="x">Predictions (N).</param>
    /// <param name="y">Targets (N).</param>
    public static T L1Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        for (int i = 0; i < x.Length; i++) s += T.Abs(x[i] - y[i]);
        return s / T.CreateTruncating(x.Length);
    }

    /// <summary>L1 backward; adds into either gradient (an empty span is skipped).</summary>
    /// <param name="dx">Prediction gradient (N), or empty.</param>
    /// <param name="dy">Target gradient (N), or empty.</param>
    /// <param name="x">Predictions (N).</param>
    /// <param name="y">Targets (N).</param>
    /// <param name="scale">Upstream gradient.</param>
    public static void L1Backward<T>(Span<T> dx, Span<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> y, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = scale / T.CreateTruncating(x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            T d = x[i] - y[i];
            T g = d > T.Zero ? s : d < T.Zero ? -s : T.Zero;
            if (!dx.IsEmpty) dx[i] += g;
            if (!dy.IsEmpty) dy[i] -= g;
        }
    }
}
