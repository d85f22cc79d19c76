namespace MLNetMerge.Errors;

/// <summary>
/// Replacing an output was asked for (<c>--force</c>, or an overwrite option of the library), but the location is not a
/// previous MLNetMerge output, or it holds one of the run's own inputs: replacing it would delete data MLNetMerge did not
/// write. The message names what was found there.
/// </summary>
/// <param name="path">The output location.</param>
/// <param name="message">What was found and why it is not replaced.</param>
public sealed class UnsafeOverwriteException(string path, string message) : MergeException(path, null, message)
{
    /// <summary>The output location that was not replaced.</summary>
    public string Path { get; } = path;
}
