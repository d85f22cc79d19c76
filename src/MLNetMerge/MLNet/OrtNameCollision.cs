using Microsoft.ML.OnnxRuntime;

namespace MLNetMerge.MLNet;

/// <summary>
/// ML.NET 6.0.0 hands ONNX bytes to ONNX Runtime through a temp file named by <c>Path.GetRandomFileName()</c>, an
/// "8.3" name drawn from 32 characters. One name in 32³ = 32 768 ends in <c>.ort</c>, which ONNX Runtime takes for its
/// own flatbuffer format: the load then fails with "ORT model verification failed" although the bytes are a valid
/// model, and the file is left behind (the exception comes before ML.NET opens it delete-on-close). Every load of an
/// <c>OnnxTransformer</c> from bytes — fitting from a stream, loading a saved zip — draws such a name.
/// <para>
/// <see cref="Retry{T}"/> runs a load again when it failed this way (each try draws a fresh name; four tries fail
/// together once in 2⁶⁰), and deletes the file the failed try left: a new <c>*.ort</c> file in the temp folder whose
/// bytes are exactly the model's, so nothing else is touched.
/// </para>
/// </summary>
internal static class OrtNameCollision
{
    /// <summary>How many times a load is tried.</summary>
    public const int Attempts = 4;

    /// <summary>The message ONNX Runtime gives for a file with the <c>.ort</c> extension that is not in its format.</summary>
    private const string Message = "ORT model verification failed";

    /// <summary>
    /// Runs <paramref name="load"/>, which writes <paramref name="modelBytes"/> to a temp file in
    /// <paramref name="tempFolder"/> and loads it; again (up to <see cref="Attempts"/> tries) when it failed on an
    /// <c>.ort</c> name, after deleting the copy that try left. Any other failure, or the last one, is thrown as it came.
    /// </summary>
    public static T Retry<T>(string tempFolder, ReadOnlySpan<byte> modelBytes, Func<T> load)
    {
        ArgumentNullException.ThrowIfNull(tempFolder);
        ArgumentNullException.ThrowIfNull(load);
        for (int attempt = 1; ; attempt++)
        {
            var before = OrtFiles(tempFolder);
            try
            {
                return load();
            }
            catch (Exception e) when (IsCollision(e))
            {
                RemoveLeftCopies(tempFolder, before, modelBytes);
                if (attempt == Attempts) throw;
            }
        }
    }

    /// <summary>Whether <paramref name="e"/> (or an exception inside it) is ONNX Runtime refusing a <c>.ort</c>-named file.</summary>
    public static bool IsCollision(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is OnnxRuntimeException && e.Message.Contains(Message, StringComparison.Ordinal)) return true;
        return false;
    }

    private static HashSet<string> OrtFiles(string folder) =>
        Directory.Exists(folder) ? [.. Directory.EnumerateFiles(folder, "*.ort", SearchOption.TopDirectoryOnly)] : [];

    /// <summary>Deletes the <c>*.ort</c> files that appeared in <paramref name="folder"/> since <paramref name="before"/> and hold exactly <paramref name="modelBytes"/>.</summary>
    private static void RemoveLeftCopies(string folder, HashSet<string> before, ReadOnlySpan<byte> modelBytes)
    {
        foreach (string file in OrtFiles(folder))
        {
            if (before.Contains(file)) continue;
            try
            {
                if (new FileInfo(file).Length != modelBytes.Length) continue;
                if (!modelBytes.SequenceEqual(File.ReadAllBytes(file))) continue;
                File.Delete(file);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
