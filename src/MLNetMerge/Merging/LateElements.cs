namespace MLNetMerge.Merging;

/// <summary>Elements of one merged tensor settled after the merge pass (<see cref="MergeRun.LateElements"/>).</summary>
/// <param name="Tensor">The merged tensor.</param>
/// <param name="Positions">Element indices within the tensor, ascending.</param>
/// <param name="Values">Their merged values.</param>
internal sealed record LateElements(string Tensor, long[] Positions, float[] Values)
{
    /// <summary>Has <paramref name="sink"/> write <paramref name="late"/> over its placeholders, lists in parallel (each
    /// list covers its own range of positions: the items of a merge do not overlap).</summary>
    public static void Patch(IEnumerable<LateElements> late, IMergeSink sink, int maxThreads, CancellationToken ct)
    {
        var lists = late.ToList();
        Tensors.GemmWorkerPool.Shared.ForEach(lists.Count, Math.Max(1, maxThreads), i =>
        {
            ct.ThrowIfCancellationRequested();
            sink.PatchModel(lists[i].Tensor, lists[i].Positions, lists[i].Values);
        });
    }
}
