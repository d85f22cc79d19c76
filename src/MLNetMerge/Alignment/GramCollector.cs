using MLNetMerge.Nn;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Alignment;

/// <summary>
/// Accumulates RegMean's Gram matrix <c>G = XᵀX</c> (In, In) of the inputs X (rows = examples × tokens) of every linear
/// layer whose weight lives in <paramref name="arena"/>, keyed by the weight's parameter index. Install it with
/// <see cref="LinearInputTap.Install"/> around forward passes; linear layers outside the arena (task heads) are ignored.
/// </summary>
/// <param name="arena">The encoder's parameters.</param>
internal sealed class GramCollector(ParameterArena arena) : LinearInputTap
{
    private readonly Dictionary<int, int> _indexByOffset = arena.Layout.Entries.Select((e, i) => (e.Offset, i)).ToDictionary(x => x.Offset, x => x.i);
    private readonly Dictionary<int, float[]> _grams = [];
    private readonly Dictionary<int, long> _rows = [];

    /// <summary>Per linear weight (parameter index), its Gram matrix (In, In).</summary>
    public IReadOnlyDictionary<int, float[]> Grams => _grams;

    /// <summary>Per linear weight (parameter index), the number of input rows accumulated.</summary>
    public IReadOnlyDictionary<int, long> Rows => _rows;

    /// <inheritdoc />
    public override void Observe(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, int rows, int inDim, int outDim)
    {
        if (!arena.Values.AsSpan().Overlaps(weight, out int offset) || !_indexByOffset.TryGetValue(offset, out int index)) return;
        if (!_grams.TryGetValue(index, out var g)) _grams[index] = g = new float[inDim * inDim]; // (In, In)
        MatMul.Multiply(true, false, inDim, inDim, rows, 1f, input, inDim, input, inDim, 1f, g, inDim);
        _rows[index] = _rows.GetValueOrDefault(index) + rows;
    }
}
