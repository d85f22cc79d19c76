using System.Numerics;
using System.Numerics.Tensors;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Alignment;

/// <summary>Settings of the trained transform solver.</summary>
/// <param name="Steps">Full-batch Adam steps.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="Beta">Weight β of the penalty <c>‖WᵀW − I‖²_F</c>.</param>
internal sealed record TransformTraining(int Steps = 1000, double LearningRate = 1e-2, double Beta = 0);

/// <summary>
/// Fits a <see cref="FeatureTransform"/> mapping merged features <c>z_n</c> to fine-tuned features <c>f_n</c>
/// (Kong et al. 2024, arXiv:2412.13526, §4), either in closed form or by training.
/// Closed forms: affine/linear — ridge least squares <c>(XᵀX + λ̄ I) B = XᵀF</c> with <c>X = [Z | 1]</c> (no ridge on the
/// bias; <c>λ̄ = λ · mean diag(ZᵀZ)</c>); invertible — the linear solution with its singular values raised to at least
/// 1e-3 σ_max; orthogonal — Procrustes <c>Q = U Vᵀ</c> of <c>M = Σ_n f_n z_nᵀ</c>; Euclidean — Procrustes on centred
/// features and <c>b = μ_f − Q μ_z</c>; scaling — per dimension <c>s_j = Σ_n z_nj f_nj / (Σ_n z_nj² + λ̄)</c>.
/// Trained: Adam from the identity on <c>L = (1/N) Σ_n ‖W z_n + b − f_n‖² + β ‖WᵀW − I‖²_F</c>
/// (scaling: <c>W = diag(s)</c>), with <c>∂L/∂W = (2/N) Σ_n r_n z_nᵀ + 4β W (WᵀW − I)</c>, <c>∂L/∂b = (2/N) Σ_n r_n</c>.
/// </summary>
internal static class TransformFitting
{
    /// <summary>Closed-form fit.</summary>
    /// <param name="kind">Family member.</param>
    /// <param name="z">Merged features (N, E).</param>
    /// <param name="f">Target features (N, E).</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="ridge">λ, relative to the mean feature energy (least-squares kinds).</param>
    public static FeatureTransform ClosedForm(TransformKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> f, int n, int e, double ridge = 1e-3)
    {
        Check(z, f, n, e);
        switch (kind)
        {
            case TransformKind.Orthogonal or TransformKind.Euclidean:
            {
                bool centre = kind == TransformKind.Euclidean;
                var muZ = centre ? Mean(z, n, e) : new float[e];          // (E)
                var muF = centre ? Mean(f, n, e) : new float[e];          // (E)
                var m = new double[e * e];                                // (E, E) Σ (f − μf)(z − μz)ᵀ
                for (int r = 0; r < n; r++)
                    for (int i = 0; i < e; i++)
                    {
                        double fi = f[r * e + i] - muF[i];
                        for (int j = 0; j < e; j++) m[i * e + j] += fi * (z[r * e + j] - muZ[j]);
                    }
                var q = new float[e * e];                                 // (E, E)
                Procrustes.Solve(m.Select(x => (float)x).ToArray(), e, q);
                float[]? b = null;
                if (centre)
                {
                    b = new float[e];                                     // (E) μf − Q μz
                    Linear.Forward<float>(b, muZ, q, [], 1, e, e);
                    TensorPrimitives.Subtract(muF, b, b);
                }
                return new FeatureTransform(kind, e, q, b, null);
            }
            case TransformKind.Scaling:
            {
                var num = new double[e]; var den = new double[e];         // (E), (E)
                for (int r = 0; r < n; r++)
                    for (int j = 0; j < e; j++) { num[j] += (double)z[r * e + j] * f[r * e + j]; den[j] += (double)z[r * e + j] * z[r * e + j]; }
                double lam = ridge * den.Average();
                return new FeatureTransform(kind, e, null, null, num.Select((x, j) => (float)(x / (den[j] + lam))).ToArray());
            }
            default:
            {
                bool bias = FeatureTransform.HasBias(kind);
                int d = bias ? e + 1 : e;
                var g = new double[d * d];                                // (D, D) XᵀX
                var xf = new double[d * e];                               // (D, E) XᵀF
                var row = new double[d];                                  // (D) one row of X
                for (int r = 0; r < n; r++)
                {
                    for (int j = 0; j < e; j++) row[j] = z[r * e + j];
                    if (bias) row[e] = 1;
                    for (int a = 0; a < d; a++)
                    {
                        for (int c = 0; c < d; c++) g[a * d + c] += row[a] * row[c];
                        for (int c = 0; c < e; c++) xf[a * e + c] += row[a] * f[r * e + c];
                    }
                }
                double meanDiag = Enumerable.Range(0, e).Average(j => g[j * d + j]);
                double lam = Math.Max(ridge * meanDiag, 1e-12);
                for (int j = 0; j < e; j++) g[j * d + j] += lam;
                if (bias) g[e * d + e] += 1e-9 * Math.Max(1, n);          // keeps the bias pivot positive when N is tiny
                var sol = new float[d * e];                               // (D, E) B
                Cholesky.Solve(g.Select(x => (float)x).ToArray(), d, xf.Select(x => (float)x).ToArray(), e, sol);
                var w = new float[e * e];                                 // (E, E) W = B[:E]ᵀ
                for (int i = 0; i < e; i++)
                    for (int j = 0; j < e; j++) w[i * e + j] = sol[j * e + i];
                if (kind == TransformKind.Invertible) RaiseSingularValues(w, e, 1e-3f);
                return new FeatureTransform(kind, e, w, bias ? sol.AsSpan(e * e, e).ToArray() : null, null);
            }
        }
    }

    /// <summary>Trained fit from the identity (full-batch Adam on the penalised loss).</summary>
    /// <param name="kind">Family member.</param>
    /// <param name="z">Merged features (N, E).</param>
    /// <param name="f">Target features (N, E).</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="settings">Steps, learning rate, β.</param>
    /// <param name="onStep">Called with (step, loss).</param>
    /// <param name="cancellationToken">Checked every step.</param>
    public static FeatureTransform Trained(TransformKind kind, ReadOnlySpan<float> z, ReadOnlySpan<float> f, int n, int e, TransformTraining settings,
        Action<int, double>? onStep = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Check(z, f, n, e);
        var t = FeatureTransform.Identity(kind, e);
        var theta = Pack(t);                                              // (P) [W | b] or s
        var grad = new float[theta.Length];                               // (P)
        var adam = new Adam(theta.Length, new AdamOptions { LearningRate = settings.LearningRate });
        for (int step = 1; step <= settings.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Array.Clear(grad);
            double loss = LossAndGradient(kind, grad, theta, z, f, n, e, settings.Beta);
            adam.Step(theta, grad);
            onStep?.Invoke(step, loss);
        }
        return Unpack(kind, theta, e);
    }

    /// <summary>The penalised loss at <paramref name="theta"/> (packed as <see cref="Pack"/>); adds ∂L/∂θ into <paramref name="grad"/>.</summary>
    public static double LossAndGradient<T>(TransformKind kind, Span<T> grad, ReadOnlySpan<T> theta, ReadOnlySpan<T> z, ReadOnlySpan<T> f,
        int n, int e, double beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new T[n * e];                                             // (N, E) prediction, then residual r, then dY
        T two = T.CreateTruncating(2.0 / n), b4 = T.CreateTruncating(4 * beta);
        double loss;
        if (kind == TransformKind.Scaling)
        {
            var s = theta[..e];                                           // (E)
            for (int r = 0; r < n; r++) TensorPrimitives.Multiply(z.Slice(r * e, e), s, y.AsSpan(r * e, e));
            TensorPrimitives.Subtract(y, f[..(n * e)], y);
            loss = double.CreateTruncating(TensorPrimitives.Dot<T>(y, y)) / n;
            for (int r = 0; r < n; r++)
                for (int j = 0; j < e; j++) grad[j] += two * y[r * e + j] * z[r * e + j];
            for (int j = 0; j < e; j++)
            {
                T d = s[j] * s[j] - T.One;
                loss += beta * double.CreateTruncating(d * d);
                grad[j] += b4 * s[j] * d;
            }
            return loss;
        }
        bool hasBias = FeatureTransform.HasBias(kind);
        var w = theta[..(e * e)];                                         // (E, E)
        var b = hasBias ? theta.Slice(e * e, e) : [];                     // (E)
        Linear.Forward<T>(y, z[..(n * e)], w, b, n, e, e);
        TensorPrimitives.Subtract(y, f[..(n * e)], y);
        loss = double.CreateTruncating(TensorPrimitives.Dot<T>(y, y)) / n;
        TensorPrimitives.Multiply(y, two, y);                             // dY = 2r/N
        Linear.Backward<T>([], grad[..(e * e)], hasBias ? grad.Slice(e * e, e) : [], y, z[..(n * e)], w, n, e, e);
        if (beta != 0)
        {
            var p = new T[e * e];                                         // (E, E) WᵀW − I
            MatMul.Multiply(true, false, e, e, e, T.One, w, e, w, e, T.Zero, p, e);
            for (int i = 0; i < e; i++) p[i * e + i] -= T.One;
            loss += beta * double.CreateTruncating(TensorPrimitives.Dot<T>(p, p));
            MatMul.Multiply(false, false, e, e, e, b4, w, e, p, e, T.One, grad[..(e * e)], e);
        }
        return loss;
    }

    /// <summary>Parameters as one vector: <c>[W (E·E) | b (E)]</c>, <c>[W]</c>, or <c>[s (E)]</c>.</summary>
    public static float[] Pack(FeatureTransform t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Scale is not null) return (float[])t.Scale.Clone();
        return t.Bias is null ? (float[])t.Weight!.Clone() : [.. t.Weight!, .. t.Bias];
    }

    /// <summary>Inverse of <see cref="Pack"/>.</summary>
    public static FeatureTransform Unpack(TransformKind kind, ReadOnlySpan<float> theta, int e) =>
        kind == TransformKind.Scaling ? new FeatureTransform(kind, e, null, null, theta[..e].ToArray())
            : new FeatureTransform(kind, e, theta[..(e * e)].ToArray(), FeatureTransform.HasBias(kind) ? theta.Slice(e * e, e).ToArray() : null, null);

    /// <summary>Replaces W by <c>U max(S, floor·σ_max) Vᵀ</c> so that it is invertible.</summary>
    public static void RaiseSingularValues(Span<float> w, int e, float floor)
    {
        var u = new float[e * e]; var s = new float[e]; var vt = new float[e * e]; // (E, E), (E), (E, E)
        JacobiSvd.Decompose(w, e, e, u, s, vt);
        float min = floor * s[0];
        for (int i = 0; i < e; i++) s[i] = Math.Max(s[i], min);
        for (int i = 0; i < e; i++)
            for (int j = 0; j < e; j++)
            {
                double acc = 0;
                for (int l = 0; l < e; l++) acc += (double)u[i * e + l] * s[l] * vt[l * e + j];
                w[i * e + j] = (float)acc;
            }
    }

    private static float[] Mean(ReadOnlySpan<float> x, int n, int e)
    {
        var mu = new float[e];                                            // (E)
        for (int r = 0; r < n; r++) TensorPrimitives.Add(mu, x.Slice(r * e, e), mu);
        TensorPrimitives.Multiply(mu, 1f / n, mu);
        return mu;
    }

    private static void Check(ReadOnlySpan<float> z, ReadOnlySpan<float> f, int n, int e)
    {
        if (n < 1) throw new AlignmentDataException(null, "fitting a transform needs at least one example.");
        if (z.Length < n * e || f.Length < n * e) throw new ArgumentException($"expected {n}×{e} merged and target features, got {z.Length} and {f.Length} values.");
    }
}
