namespace MLNetMerge.Checkpoints;

/// <summary>
/// A checkpoint seen under other tensor names: a function maps each inner name to the one it is read as
/// (tensors it maps to null keep theirs). Reads go to the inner reader with its own tensor records, so offsets, files and
/// range reads are the inner checkpoint's. Used to read a fine-tuned model whose weights sit under a model-class prefix
/// (<c>vit.</c>, <c>bert.</c>) beside a base saved without it, or the other way round. Disposing disposes the inner reader.
/// </summary>
internal sealed class RenamedCheckpoint : ICheckpointReader
{
    private readonly ICheckpointReader _inner;
    private readonly Dictionary<string, TensorInfo> _byName = new(StringComparer.Ordinal);   // outer name → inner record
    private readonly Dictionary<string, TensorInfo> _outer = new(StringComparer.Ordinal);    // outer name → outer record

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <exception cref="CheckpointFormatException">Two tensors would be read under one name.</exception>
    public RenamedCheckpoint(ICheckpointReader inner, Func<string, string?> rename)
    {
        _inner = inner;
        var tensors = new List<TensorInfo>(inner.Tensors.Count);
        foreach (var t in inner.Tensors)
        {
            string name = rename(t.Name) ?? t.Name;
            var outer = t with { Name = name };
            if (!_byName.TryAdd(name, t))
                throw new CheckpointFormatException(inner.Path, t.Name, $"would be read as '{name}', a name another tensor of the file already has.");
            _outer[name] = outer;
            tensors.Add(outer);
        }
        Tensors = tensors;
    }

    /// <inheritdoc />
    public string Path => _inner.Path;

    /// <inheritdoc />
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => _inner.Metadata;

    /// <inheritdoc />
    public bool SupportsRangeReads => _inner.SupportsRangeReads;

    /// <inheritdoc />
    public bool TryGetTensor(string name, out TensorInfo info) => _outer.TryGetValue(name, out info!);

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, Span<float> destination) => _inner.ReadFloat32(Inner(tensor), destination);

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, long start, Span<float> destination) => _inner.ReadFloat32(Inner(tensor), start, destination);

    /// <inheritdoc />
    public unsafe float* TryMapFloat32(TensorInfo tensor, long start, int count) => _inner.TryMapFloat32(Inner(tensor), start, count);

    /// <inheritdoc />
    public void ReadRaw(TensorInfo tensor, Span<byte> destination) => _inner.ReadRaw(Inner(tensor), destination);

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    private TensorInfo Inner(TensorInfo tensor) =>
        _byName.TryGetValue(tensor.Name, out var inner) ? inner : throw new ArgumentException($"tensor '{tensor.Name}' is not in {Path}.", nameof(tensor));
}
