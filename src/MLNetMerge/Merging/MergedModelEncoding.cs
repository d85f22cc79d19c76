using MLNetMerge.Data;
using MLNetMerge.Encoders;

namespace MLNetMerge.Merging;

/// <summary>Running an encoder session with a merged model's weights.</summary>
internal static class MergedModelEncoding
{
    /// <summary>The weights task <paramref name="task"/> runs with (its own for per-task methods), by layout name without
    /// the session's prefix.</summary>
    public static Func<string, float[]> WeightsFor(this EncoderSession session, MergedModel merged, string task)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(merged);
        string prefix = session.Prefix;
        return name => merged.TensorFor(task, prefix + name);
    }

    /// <summary><c>f_m(x)</c> (N, E): the merged model's encoder as task <paramref name="task"/> runs it (cached per merged
    /// model, task and dataset).</summary>
    public static float[] EmbedMerged(this EncoderSession session, MergedModel merged, string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(merged);
        return session.EmbedCached(merged, task, session.WeightsFor(merged, task), data, cancellationToken);
    }
}
