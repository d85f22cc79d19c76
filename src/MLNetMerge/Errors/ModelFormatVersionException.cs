namespace MLNetMerge.Errors;

/// <summary>
/// A saved model's <c>manifest.json</c> names a format this library does not read: another tool's format, or a
/// version of MLNetMerge's own format newer (or older) than the ones this build understands.
/// </summary>
/// <param name="file">The manifest.</param>
/// <param name="format">The format it names (empty when none).</param>
/// <param name="version">The version it names (−1 when none).</param>
/// <param name="message">What was found and what was expected.</param>
public sealed class ModelFormatVersionException(string file, string format, int version, string message)
    : MergeException(file, null, message)
{
    /// <summary>The format the manifest names.</summary>
    public string Format { get; } = format;

    /// <summary>The version the manifest names.</summary>
    public int Version { get; } = version;
}
