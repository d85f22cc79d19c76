using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Task arithmetic straight from raw weights in one sweep, for the streaming executor's hot path:
/// <c>τt[i] = θt[i] − θ0[i]</c>, <c>acc = Σt (τt[i] · wt)</c> accumulated from 0 in task order,
/// <c>out[i] = acc · λ + θ0[i]</c>, with separate multiplies and adds, so every element is rounded exactly as the
/// unfused path rounds it (τt buffers, then <c>TensorPrimitives.MultiplyAdd(τt, wt, acc, acc)</c> per task, then
/// <c>MultiplyAdd(acc, λ, θ0, out)</c>). The inputs are read once and nothing is written but the output; the finite check
/// rides along on the output (<c>x − x</c> is 0 for a finite x and NaN otherwise): a NaN or infinite θ0[i] or θt[i]
/// makes out[i] NaN or infinite whatever the weights (∞ · 0 is NaN), and so does a float32 overflow of finite inputs. The 16- and 8-lane loops are the same sweep written
/// once per width (the 16-lane one measured ~8 % faster on a whole 8-model merge), with a scalar tail computing the
/// same formula.
/// </summary>
internal static class RawTaskArithmeticKernel
{
    /// <summary>
    /// Writes <c>out[i] = (Σt (θt[i] − θ0[i]) · wt) · λ + θ0[i]</c> for i &lt; <paramref name="n"/>.
    /// Returns false when any out[i] is NaN or infinite — when a θ0[i] or θt[i] is, or float32 overflowed (the output is
    /// still written, with the NaN or infinity the unfused arithmetic gives).
    /// </summary>
    /// <param name="output">(n) merged weights.</param>
    /// <param name="theta0">(n) base weights.</param>
    /// <param name="thetas">T arrays of at least n fine-tuned weights.</param>
    /// <param name="weights">(T) per-model weights wt (already normalised when the merge is a mean).</param>
    /// <param name="lambda">The scale λ.</param>
    /// <param name="n">Element count.</param>
    public static bool Merge(Span<float> output, ReadOnlySpan<float> theta0, float[][] thetas, ReadOnlySpan<float> weights, float lambda, int n)
    {
        ArgumentNullException.ThrowIfNull(thetas);
        foreach (var a in thetas)
            if (a.Length < n) throw new ArgumentException($"a model buffer holds {a.Length} elements; {n} expected.", nameof(thetas));
        using var pinned = new PinnedAddresses(thetas, thetas.Length);
        return Merge(output, theta0, pinned.Addresses, weights, lambda, n);
    }

    /// <summary>
    /// <see cref="Merge(Span{float}, ReadOnlySpan{float}, float[][], ReadOnlySpan{float}, float, int)"/> with each θt given
    /// by the address of its first element (n floats, pinned or mapped by the caller: a checkpoint's slice read in place,
    /// <see cref="MergeTensorContext.RangeTasks"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe bool Merge(Span<float> output, ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> weights, float lambda, int n)
    {
        if (output.Length < n || theta0.Length < n || thetas.Length != weights.Length)
            throw new ArgumentException($"need {n} outputs and base weights and one weight per model; got {output.Length}, {theta0.Length}, {thetas.Length} models and {weights.Length} weights.");
        int T = thetas.Length;
        ref float o = ref MemoryMarshal.GetReference(output);
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        int i = 0;
        bool finite = true;
        if (Vector512.IsHardwareAccelerated)
        {
            var check = Vector512<float>.Zero;
            var l = Vector512.Create(lambda);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var b = Vector512.LoadUnsafe(ref b0, (nuint)i);
                var acc = Vector512<float>.Zero;
                for (int t = 0; t < T; t++)
                    acc = (Vector512.Load((float*)thetas[t] + i) - b) * Vector512.Create(weights[t]) + acc;
                var r = acc * l + b;
                check += r - r;
                r.StoreUnsafe(ref o, (nuint)i);
            }
            finite = Vector512.EqualsAll(check, Vector512<float>.Zero);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var check = Vector256<float>.Zero;
            var l = Vector256.Create(lambda);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var b = Vector256.LoadUnsafe(ref b0, (nuint)i);
                var acc = Vector256<float>.Zero;
                for (int t = 0; t < T; t++)
                    acc = (Vector256.Load((float*)thetas[t] + i) - b) * Vector256.Create(weights[t]) + acc;
                var r = acc * l + b;
                check += r - r;
                r.StoreUnsafe(ref o, (nuint)i);
            }
            finite = Vector256.EqualsAll(check, Vector256<float>.Zero);
        }
        for (; i < n; i++)
        {
            float b = Unsafe.Add(ref b0, i);
            float acc = 0f;
            for (int t = 0; t < T; t++)
                acc = (((float*)thetas[t])[i] - b) * weights[t] + acc;
            float r = acc * lambda + b;
            finite &= float.IsFinite(r);
            Unsafe.Add(ref o, i) = r;
        }
        return finite;
    }
}
