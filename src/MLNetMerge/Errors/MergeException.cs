namespace MLNetMerge.Errors;

/// <summary>Base of every error MLNetMerge raises on bad input; the message names the file, the tensor and what was expected.</summary>
public class MergeException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="file">The file concerned, or null.</param>
    /// <param name="tensor">The tensor concerned, or null.</param>
    /// <param name="message">What was found and what was expected.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public MergeException(string? file, string? tensor, string message, Exception? inner = null)
        : base(Compose(file, tensor, message), inner)
    {
        File = file;
        Tensor = tensor;
    }

    /// <summary>The file concerned, if any.</summary>
    public string? File { get; }

    /// <summary>The tensor concerned, if any.</summary>
    public string? Tensor { get; }

    private static string Compose(string? file, string? tensor, string message)
    {
        var prefix = (file, tensor) switch
        {
            (not null, not null) => $"{file}: tensor '{tensor}': ",
            (not null, null) => $"{file}: ",
            (null, not null) => $"tensor '{tensor}': ",
            _ => "",
        };
        return prefix + message;
    }
}

/// <summary>A checkpoint file is malformed: truncated, bad header, overlapping or out-of-range offsets, unknown dtype, forbidden pickle opcode.</summary>
public sealed class CheckpointFormatException(string? file, string? tensor, string message, Exception? inner = null)
    : MergeException(file, tensor, message, inner);

/// <summary>The models of a family disagree: a missing tensor, or a shape or dtype mismatch with the base.</summary>
public sealed class IncompatibleModelsException(string? file, string? tensor, string message)
    : MergeException(file, tensor, message);

/// <summary>An input tensor holds NaN or infinity and the recipe did not allow it.</summary>
public sealed class NonFiniteTensorException(string? file, string? tensor, string message)
    : MergeException(file, tensor, message);

/// <summary>A recipe is invalid: unknown key, bad value, unknown method or parameter.</summary>
public sealed class RecipeException(string? file, string message, Exception? inner = null)
    : MergeException(file, null, message, inner);

/// <summary>An output location already exists and overwriting was not requested.</summary>
public sealed class OutputExistsException(string path)
    : MergeException(path, null, "output already exists; to replace it, pass --force (command line) or set Overwrite (library options).");
