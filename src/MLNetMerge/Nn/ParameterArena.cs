using MLNetMerge.Checkpoints;

namespace MLNetMerge.Nn;

/// <summary>
/// Parameters and their gradients in two parallel contiguous float32 buffers laid out by a <see cref="ParameterLayout"/>.
/// Kernels get spans into these buffers; optimisers and gradient clipping see all of them as one span.
/// </summary>
internal sealed class ParameterArena
{
    /// <summary>Creates a zero-filled arena for <paramref name="layout"/>.</summary>
    public ParameterArena(ParameterLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        Values = new float[layout.TotalLength];
        Gradients = new float[layout.TotalLength];
    }

    /// <summary>The layout (names, shapes, offsets).</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Every parameter value (P).</summary>
    public float[] Values { get; }

    /// <summary>Every gradient (P), parallel to <see cref="Values"/>.</summary>
    public float[] Gradients { get; }

    /// <summary>The values of parameter <paramref name="index"/>.</summary>
    public Span<float> Value(int index) { var e = Layout.Entries[index]; return Values.AsSpan(e.Offset, e.Length); }

    /// <summary>The values of a parameter by name.</summary>
    public Span<float> Value(string name) => Value(Layout.IndexOf(name));

    /// <summary>The gradient of parameter <paramref name="index"/>.</summary>
    public Span<float> Gradient(int index) { var e = Layout.Entries[index]; return Gradients.AsSpan(e.Offset, e.Length); }

    /// <summary>The gradient of a parameter by name.</summary>
    public Span<float> Gradient(string name) => Gradient(Layout.IndexOf(name));

    /// <summary>Sets every gradient to zero (backward passes add into them).</summary>
    public void ZeroGrad() => Array.Clear(Gradients);

    /// <summary>
    /// Reads every parameter from a checkpoint. Checkpoint tensors are matched by <c>prefix + name</c>; tensors outside
    /// the prefix (e.g. a classification head saved next to <c>vit.*</c>) and buffers for which
    /// <paramref name="ignore"/> returns true (e.g. <c>position_ids</c>) are skipped.
    /// </summary>
    /// <param name="reader">The checkpoint.</param>
    /// <param name="architecture">Architecture name for the error message.</param>
    /// <param name="prefix">Prefix of the encoder's tensors in the checkpoint (<c>""</c>, <c>"vit."</c>, …).</param>
    /// <param name="ignore">Checkpoint names (without the prefix) that are known non-parameters.</param>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ; lists all differences at once.</exception>
    public void Load(ICheckpointReader reader, string architecture, string prefix = "", Func<string, bool>? ignore = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var missing = new List<string>();
        var misShaped = new List<(string, string, string)>();
        var unexpected = new List<string>();
        foreach (var t in reader.Tensors)
        {
            if (!t.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string local = t.Name[prefix.Length..];
            if (Layout.TryGet(local, out var entry))
            {
                if (!t.Shape.AsSpan().SequenceEqual(entry.Shape)) misShaped.Add((t.Name, t.ShapeText, entry.ShapeText));
            }
            else if (ignore is null || !ignore(local)) unexpected.Add(t.Name);
        }
        foreach (var e in Layout.Entries)
            if (!reader.TryGetTensor(prefix + e.Name, out _)) missing.Add(prefix + e.Name);
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw new ArchitectureMismatchException(reader.Path, architecture, missing, unexpected, misShaped);
        for (int i = 0; i < Layout.Entries.Count; i++)
        {
            reader.TryGetTensor(prefix + Layout.Entries[i].Name, out var info);
            reader.ReadFloat32(info, Value(i));
        }
    }
}
