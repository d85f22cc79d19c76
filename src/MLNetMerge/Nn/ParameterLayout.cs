namespace MLNetMerge.Nn;

/// <summary>One named parameter tensor of an architecture and where it lives in the arena.</summary>
/// <param name="Name">Checkpoint name (Hugging Face naming, e.g. <c>encoder.layer.0.attention.attention.query.weight</c>).</param>
/// <param name="Shape">Shape, outermost first (PyTorch's layout: a linear weight is (out, in)).</param>
/// <param name="Offset">First element in the arena.</param>
internal sealed record ParameterEntry(string Name, int[] Shape, int Offset)
{
    /// <summary>Number of elements.</summary>
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The shape written as <c>[768, 3072]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The ordered (name, shape) list of an architecture's parameters, laid out back to back. The same list is the
/// checkpoint name mapping: loading, saving and the merge code all address parameters by these names.
/// </summary>
internal sealed class ParameterLayout
{
    private readonly List<ParameterEntry> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>Every parameter, in layout order.</summary>
    public IReadOnlyList<ParameterEntry> Entries => _entries;

    /// <summary>Total number of elements.</summary>
    public int TotalLength { get; private set; }

    /// <summary>Appends a parameter and returns its index.</summary>
    /// <exception cref="ArgumentException">The name is already used, or a dimension is not positive.</exception>
    public int Add(string name, params int[] shape)
    {
        if (_index.ContainsKey(name)) throw new ArgumentException($"parameter '{name}' is declared twice.", nameof(name));
        if (shape.Any(d => d <= 0)) throw new ArgumentException($"parameter '{name}' has a non-positive dimension in [{string.Join(", ", shape)}].", nameof(shape));
        var entry = new ParameterEntry(name, (int[])shape.Clone(), TotalLength);
        long end = (long)TotalLength + entry.Length;
        if (end > Array.MaxLength) throw new ArgumentException("the parameters exceed one array.", nameof(shape));
        _index[name] = _entries.Count;
        _entries.Add(entry);
        TotalLength = (int)end;
        return _entries.Count - 1;
    }

    /// <summary>The index of a parameter by name.</summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i : throw new KeyNotFoundException($"no parameter named '{name}'.");

    /// <summary>Finds a parameter by name.</summary>
    public bool TryGet(string name, out ParameterEntry entry)
    {
        if (_index.TryGetValue(name, out int i)) { entry = _entries[i]; return true; }
        entry = null!;
        return false;
    }
}
