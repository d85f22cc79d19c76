namespace MLNetMerge.Errors;

/// <summary>
/// A checkpoint does not fit an architecture's parameter list: the message lists every missing tensor, every
/// unexpected tensor and every tensor whose shape differs (found vs expected).
/// </summary>
public sealed class ArchitectureMismatchException : MergeException
{
    /// <summary>Creates the error.</summary>
    /// <param name="file">The checkpoint.</param>
    /// <param name="architecture">The architecture it was loaded into (e.g. <c>vit</c>).</param>
    /// <param name="missing">Parameters the architecture needs that the checkpoint lacks.</param>
    /// <param name="unexpected">Checkpoint tensors the architecture does not know.</param>
    /// <param name="misShaped">Tensors present in both with different shapes: (name, found, expected).</param>
    public ArchitectureMismatchException(string? file, string architecture, IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected, IReadOnlyList<(string Name, string Found, string Expected)> misShaped)
        : base(file, null, Describe(architecture, missing, unexpected, misShaped))
    {
        Missing = missing;
        Unexpected = unexpected;
        MisShaped = misShaped;
    }

    /// <summary>Parameters the architecture needs that the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checkpoint tensors the architecture does not know.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Tensors with a different shape: name, shape found, shape expected.</summary>
    public IReadOnlyList<(string Name, string Found, string Expected)> MisShaped { get; }

    private static string Describe(string architecture, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<(string Name, string Found, string Expected)> misShaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing {missing.Count}: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected {unexpected.Count}: {string.Join(", ", unexpected)}");
        if (misShaped.Count > 0) parts.Add($"mis-shaped {misShaped.Count}: {string.Join(", ", misShaped.Select(m => $"{m.Name} is {m.Found}, expected {m.Expected}"))}");
        return $"checkpoint does not match architecture '{architecture}': " + string.Join("; ", parts) + ".";
    }
}
