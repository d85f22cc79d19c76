namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Spherical linear interpolation of two models, per tensor, at <c>t</c>: of the task vectors around θ0
/// (<c>θ = θ0 + slerp(τ1, τ2, t)</c>), or of the weights themselves with <c>over: weights</c>.
/// With <c>Ω = arccos(⟨v1/‖v1‖, v2/‖v2‖⟩)</c>: <c>slerp = sin((1−t)Ω)/sin Ω · v1 + sin(tΩ)/sin Ω · v2</c>;
/// linear interpolation when the vectors are nearly parallel or opposed (|cos| &gt; 0.9995, mergekit's rule: sin Ω → 0
/// either way) or one is zero.
/// Shoemake 1985, "Animating rotation with quaternion curves", SIGGRAPH; as used for model merging by mergekit.
/// </summary>
internal sealed class Slerp : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "slerp";

    /// <inheritdoc />
    public override string Reference => "Shoemake 1985, Animating rotation with quaternion curves (SLERP), SIGGRAPH";

    /// <inheritdoc />
    public override string Summary => "spherical interpolation of two models";

    /// <inheritdoc />
    public override int MinModels => 2;

    /// <inheritdoc />
    public override int MaxModels => 2;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("t", 0.5, "Interpolation position: 0 gives the first model, 1 the second.", 0, 1),
        MethodParameter.Choice("over", "Interpolate task vectors around the base, or raw weights.", "task_vectors", "weights"),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run(parameters.Choice("over") == "task_vectors");

    /// <summary>Writes <c>slerp(v1, v2, t)</c> into <paramref name="output"/> (dot products in float64).</summary>
    public static void Interpolate(ReadOnlySpan<float> v1, ReadOnlySpan<float> v2, double t, Span<float> output)
    {
        double d = 0, n1 = 0, n2 = 0;
        for (int i = 0; i < v1.Length; i++) { d += (double)v1[i] * v2[i]; n1 += (double)v1[i] * v1[i]; n2 += (double)v2[i] * v2[i]; }
        double a, b;
        double cos = n1 == 0 || n2 == 0 ? 1 : d / Math.Sqrt(n1 * n2);
        if (Math.Abs(cos) > 0.9995) { a = 1 - t; b = t; }
        else
        {
            double omega = Math.Acos(Math.Clamp(cos, -1, 1));
            double sin = Math.Sin(omega);
            a = Math.Sin((1 - t) * omega) / sin;
            b = Math.Sin(t * omega) / sin;
        }
        for (int i = 0; i < output.Length; i++) output[i] = (float)(a * v1[i] + b * v2[i]);
    }

    private sealed class Run(bool taskVectors) : MergeRun
    {
        public override bool UsesTaskVectors => taskVectors;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            Interpolate(ctx.Task(0), ctx.Task(1), ctx.Number("t"), output);
            if (taskVectors) System.Numerics.Tensors.TensorPrimitives.Add(output, ctx.Base, output);
        }
    }
}
