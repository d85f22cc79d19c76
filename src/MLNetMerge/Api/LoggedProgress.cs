using MLNetMerge.Merging;
using MLNetMerge.MLNet;

namespace MLNetMerge;

/// <summary>Progress of a fit onto <c>MLContext.Log</c> (one trace message per report, the loss when there is one), then
/// on to the caller's own <see cref="IProgress{T}"/> when given.</summary>
internal sealed class LoggedProgress(MLNetLog log, IProgress<MergeProgress>? next) : IProgress<MergeProgress>
{
    public void Report(MergeProgress value)
    {
        log.Trace(value.Loss is { } loss
            ? FormattableString.Invariant($"{value.Stage}: {value.Completed}/{value.Total}, loss {loss:G6}")
            : FormattableString.Invariant($"{value.Stage}: {value.Completed}/{value.Total}"));
        next?.Report(value);
    }
}
