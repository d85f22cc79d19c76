using Microsoft.ML.Transforms.Onnx;

namespace MLNetMerge.MLNet;

/// <summary>
/// Deletes, when the process exits normally, the temp copies of the ONNX models behind the transformers MLNetMerge
/// handed out and nobody disposed. ML.NET's <see cref="OnnxTransformer"/> keeps its model as a file in
/// <c>MLContext.TempFilePath</c> and deletes it only in <c>Dispose</c>; a program that drops a fitted merge (as most
/// samples do) would otherwise leave ~0.5 MB per model in the temp folder at every run. Transformers are held weakly,
/// so tracking keeps nothing alive; at exit each live one is disposed (which deletes its copy).
/// </summary>
internal static class TempCopyCleanup
{
    private static readonly List<WeakReference<OnnxTransformer>> Live = [];
    private static bool _hooked;

    /// <summary>Tracks <paramref name="transformer"/>; returns it.</summary>
    public static OnnxTransformer Track(OnnxTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        lock (Live)
        {
            if (!_hooked)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeLive();
                _hooked = true;
            }
            Live.RemoveAll(w => !w.TryGetTarget(out _));
            Live.Add(new WeakReference<OnnxTransformer>(transformer));
        }
        return transformer;
    }

    /// <summary>Disposes every tracked transformer still alive (or those <paramref name="select"/> picks), deleting
    /// their temp copies; errors are ignored at exit.</summary>
    internal static void DisposeLive(Func<OnnxTransformer, bool>? select = null)
    {
        var chosen = new List<OnnxTransformer>();
        lock (Live)
        {
            Live.RemoveAll(w =>
            {
                if (!w.TryGetTarget(out var t)) return true;
                if (select is not null && !select(t)) return false;
                chosen.Add(t);
                return true;
            });
        }
        foreach (var t in chosen)
        {
            try { t.Dispose(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException) { }
        }
    }
}
