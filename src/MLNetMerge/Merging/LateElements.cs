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
        if (lists.Count == 0) return;
        Parallel.ForEach(lists, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxThreads), CancellationToken = ct },
            l => sink.PatchModel(l.Tensor, l.Positions, l.Values));
    }
}
