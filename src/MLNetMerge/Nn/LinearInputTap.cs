namespace MLNetMerge.Nn;

/// <summary>
/// An observer of every float32 <see cref="Layers.Linear.Forward{T}"/> call on the current thread: it sees the layer's
/// input rows (N, In) and its weight (Out, In), so statistics of linear-layer inputs (RegMean's Gram matrices) can be
/// gathered from any architecture without changing it. Install one with <see cref="Install"/> around forward passes;
/// the engine pays one thread-static null check per linear layer otherwise.
/// </summary>
internal abstract class LinearInputTap
{
    [ThreadStatic] private static LinearInputTap? _active;

    /// <summary>The tap observing this thread's linear layers, or null.</summary>
    internal static LinearInputTap? Active => _active;

    /// <summary>Called with the input (N, In) and weight (Out, In) of a linear layer before its output is computed.</summary>
    /// <param name="input">Input rows (N, In).</param>
    /// <param name="weight">The layer's weight (Out, In): a span into the model's parameter arena.</param>
    /// <param name="rows">N.</param>
    /// <param name="inDim">In.</param>
    /// <param name="outDim">Out.</param>
    public abstract void Observe(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int inDim, int outDim);

    /// <summary>Makes <paramref name="tap"/> observe this thread's linear layers until the returned scope is disposed.</summary>
    public static IDisposable Install(LinearInputTap tap)
    {
        ArgumentNullException.ThrowIfNull(tap);
        var previous = _active;
        _active = tap;
        return new Scope(previous);
    }

    private sealed class Scope(LinearInputTap? previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _active = previous;
        }
    }
}
