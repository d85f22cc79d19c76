using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MLNetMerge.Tensors;

namespace MLNetMerge.Nn;

/// <summary>
/// A promise, for a scope on one thread, that a parameter arena's values do not change: inside it the inference forward
/// (<see cref="Layers.FusedLinear"/>) packs each linear layer's weight for the GEMM once, in its first product (into
/// panels the scope keeps instead of the product's own buffer: no extra work), and every later batch reads those panels
/// instead of packing the weight again — what ONNX Runtime does for a constant weight when
/// its session is created. Same bits as without the scope (the panels are the same floats).
/// <code>
/// using (FrozenWeights.Begin(model.Parameters))
///     foreach (batch) model.Forward(batch);       // weights packed on the first batch, read from the panels after
/// </code>
/// The arena's values array is pinned while the scope is open (so a weight is known by its address) and the panels
/// (about the weights' own size, in native memory) are freed when it closes. Training inside a scope is a bug: a weight
/// changed by an optimiser step would still be read from its old panels. Scopes nest; an inner one over the same arena
/// adds nothing.
/// </summary>
internal sealed class FrozenWeights : IDisposable
{
    [ThreadStatic] private static FrozenWeights? t_current;

    private readonly FrozenWeights? _outer;
    private readonly float[] _values;
    private readonly bool _shadow; // an outer scope on this thread already holds these values: this one adds nothing
    private GCHandle _pin;
    private readonly Dictionary<int, PackedMatrix?> _packed = []; // by the weight's offset in the arena; null: not packable
    private bool _disposed;

    private FrozenWeights(float[] values, FrozenWeights? outer)
    {
        _values = values;
        _outer = outer;
        for (var o = outer; o != null; o = o._outer) _shadow |= ReferenceEquals(o._values, values);
        if (!_shadow) _pin = GCHandle.Alloc(values, GCHandleType.Pinned);
    }

    /// <summary>Opens a scope in which <paramref name="arena"/>'s values do not change.</summary>
    public static FrozenWeights Begin(ParameterArena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        var scope = new FrozenWeights(arena.Values, t_current);
        t_current = scope;
        return scope;
    }

    /// <summary>Weights packed in this scope so far.</summary>
    internal int PackedWeights => _packed.Values.Count(p => p is { IsComplete: true });

    /// <summary>
    /// The packed panels of <paramref name="weight"/> (out, in) as op(B) of <c>x · Wᵀ</c> for <paramref name="path"/>, or null
    /// outside every scope, for a weight outside the scopes' arenas, or one the driver would not read whole.
    /// </summary>
    internal static PackedMatrix? PackedTransposed(ReadOnlySpan<float> weight, int outDim, int inDim, GemmPath path)
    {
        for (var scope = t_current; scope != null; scope = scope._outer)
        {
            if (scope._shadow) continue;
            int offset = scope.OffsetOf(weight, outDim * inDim);
            if (offset < 0) continue;
            if (!scope._packed.TryGetValue(offset, out var packed))
            {
                packed = PackedMatrix.TryAllocate(path, transB: true, outDim, inDim); // the first product packs it
                scope._packed[offset] = packed;
            }
            return packed != null && packed.Fits(path, true, outDim, inDim) ? packed : null;
        }
        return null;
    }

    /// <summary>The offset of <paramref name="weight"/>'s first float in the pinned values, or −1 when it is not inside them.</summary>
    private unsafe int OffsetOf(ReadOnlySpan<float> weight, int length)
    {
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(weight));
        nint base0 = _pin.AddrOfPinnedObject();
        long offset = (start - base0) / sizeof(float);
        if (start < base0 || (start - base0) % sizeof(float) != 0 || offset + length > _values.Length) return -1;
        return (int)offset;
    }

    /// <summary>Closes the scope: gives the panels back (<see cref="PackedMatrix.Dispose"/>) and unpins the values. Scopes
    /// close in the reverse order they opened.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(t_current, this))
            throw new InvalidOperationException("frozen-weight scopes must close on the thread that opened them, innermost first.");
        _disposed = true;
        t_current = _outer;
        foreach (var packed in _packed.Values) packed?.Dispose();
        _packed.Clear();
        if (!_shadow) _pin.Free();
    }
}
