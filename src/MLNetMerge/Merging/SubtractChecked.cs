using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging;

/// <summary>
/// The executor's load step for task vectors in one sweep: <c>τt[i] ← θt[i] − θ0[i]</c>, θt in place in its checkpoint's
/// mapping or already read into the task buffer, while noting whether every θt[i] was finite (<c>x − x</c> is 0 for a
/// finite x and NaN otherwise). The difference is the same bits as <c>TensorPrimitives.Subtract</c>'s; the separate finite
/// check and subtraction read θt twice.
/// </summary>
internal static class SubtractChecked
{
    /// <summary>Subtracts <paramref name="theta0"/> from <paramref name="theta"/> in place; false when some θt[i] was NaN or infinite.</summary>
    public static bool Run(Span<float> theta, ReadOnlySpan<float> theta0) => Run(theta, theta0, theta);

    /// <summary>
    /// <c>tau = theta − theta0</c> (<paramref name="tau"/> may be <paramref name="theta"/> itself, element for element); false
    /// when some θt[i] was NaN or infinite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Run(ReadOnlySpan<float> theta, ReadOnlySpan<float> theta0, Span<float> tau)
    {
        int n = theta.Length, i = 0;
        if (theta0.Length < n || tau.Length < n) throw new ArgumentException($"base or task buffer shorter than {n} elements.");
        ref float t0 = ref MemoryMarshal.GetReference(theta);
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float d0 = ref MemoryMarshal.GetReference(tau);
        bool finite = true;
        if (Vector512.IsHardwareAccelerated)
        {
            var check = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref t0, (nuint)i);
                check += x - x;
                (x - Vector512.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref d0, (nuint)i);
            }
            finite = Vector512.EqualsAll(check, Vector512<float>.Zero);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var check = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref t0, (nuint)i);
                check += x - x;
                (x - Vector256.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref d0, (nuint)i);
            }
            finite = Vector256.EqualsAll(check, Vector256<float>.Zero);
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref t0, i);
            finite &= float.IsFinite(x);
            Unsafe.Add(ref d0, i) = x - Unsafe.Add(ref b0, i);
        }
        return finite;
    }
}
