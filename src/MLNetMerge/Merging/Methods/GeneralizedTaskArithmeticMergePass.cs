using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// The merge pass that finishes TIES's global trim (<see cref="DeferredDisjointMerge"/>, docs/methods/ties.md "The merge
/// finishes the trim"): what it keeps, and the thresholds, majority sign and late values after it.
/// </summary>
internal sealed partial class GeneralizedTaskArithmeticRun
{
    /// <summary>One merged item's elements left to <see cref="EndMerge"/>, with the per-tensor weights and λ they need.</summary>
    private sealed record KeptItem(string Tensor, long Offset, float[] W, float Lambda, DeferredDisjointMerge Deferred, DeferredDisjointMerge? Undecided);

    /// <summary>The merge pass that finishes the trim: θ0 + λ·τm with placeholders, the unsettled elements kept.</summary>
    private void MergeDeferring(MergeTensorContext ctx, Span<float> output, float lambda)
    {
        var w = Weights(ctx);
        var (deferred, undecided) = DeferredDisjointMerge.Merge(ctx.TaskArrays, ctx.Base, w, _low, _high, ctx.Length, _shape.Mean, lambda, output);
        Interlocked.Add(ref _certain, deferred.Certain);
        for (int t = 0; t < deferred.Above.Length; t++) Interlocked.Add(ref _above[t], deferred.Above[t]);
        if (deferred.Count > 0 && Interlocked.Add(ref _deferredBytes, deferred.Bytes) > _deferredLimit)
            _deferredDropped = true; // a sampled interval held more than its estimate: the exact passes follow
        if (undecided.Count > 0 && Interlocked.Add(ref _undecidedBytes, undecided.Bytes) > _undecidedLimit)
        {
            _undecidedDropped = true; // right anyway if the majority sign is +1; otherwise the merge runs again
            undecided = null;
        }
        if (!_deferredDropped && (deferred.Count > 0 || undecided is { Count: > 0 }))
            _kept.Enqueue(new KeptItem(ctx.Name, ctx.Offset, w, lambda, deferred, undecided));
    }

    /// <summary>After the merge pass that finishes the trim: the thresholds from the kept elements, then the majority
    /// sign, then the kept elements' merged values.</summary>
    public override void EndMerge()
    {
        if (!_mergeDefers) return;
        _mergeDefers = false; // a merge after this one (MergeAgain) uses the exact thresholds and majority sign
        var kept = _kept.ToArray();
        _kept.Clear();
        int T = _plan.TaskCount;
        // Every non-zero τt in task t's interval is among the deferred elements, and the merge pass counted those above it:
        // the threshold is a select over them, if it lies inside the interval at all (after a sample it may not).
        var pool = GemmWorkerPool.Shared;
        var deferred = kept.Select(k => k.Deferred).ToArray();
        if (!_deferredDropped)
            pool.ForEach(T, T, t =>
            {
                if (_threshold[t] >= 0) return;
                _threshold[t] = TrimInterval.Threshold(deferred, t, _low[t], _high[t],
                    Sparsification.ThresholdRank(_elements, _p.Number("keep", t)), _above[t], _elements);
            });
        if (_deferredDropped || _threshold.Any(float.IsNaN))
        {
            // Not settled: the exact passes run after this one, then the merge again.
            for (int t = 0; t < T; t++)
                if (_low[t] >= 0) _threshold[t] = -1f;
            StartOver(_passBase + 1);
            _mergeAgain = true;
            return;
        }
        var signs = new long[kept.Length];
        pool.ForEach(kept.Length, pool.MaxParts, i => signs[i] = kept[i].Deferred.Balance(kept[i].W, _threshold));
        long balance = _certain + signs.Sum();
        _majority = Majority(balance);
        if (_undecidedDropped && _majority < 0) { _mergeAgain = true; return; }
        // Undecided placeholders were written with majority +1: right unless it is −1.
        var late = new LateElements[kept.Length];
        pool.ForEach(kept.Length, pool.MaxParts, i => late[i] = Settled(kept[i], _majority < 0));
        _late = [.. late];
    }

    private LateElements Settled(KeptItem k, bool undecidedToo)
    {
        var d = k.Deferred;
        var u = undecidedToo && k.Undecided is { Count: > 0 } ? k.Undecided : null;
        var dv = d.Settle(k.W, _threshold, _majority, _shape.Mean, k.Lambda);
        var uv = u?.Settle(k.W, _threshold, _majority, _shape.Mean, k.Lambda) ?? [];
        int total = d.Count + uv.Length;
        var positions = new long[total];
        var values = new float[total];
        for (int o = 0, a = 0, b = 0; o < total; o++) // both in ascending position
        {
            bool fromDeferred = b == uv.Length || (a < d.Count && d.Positions[a] < u!.Positions[b]);
            positions[o] = k.Offset + (fromDeferred ? d.Positions[a] : u!.Positions[b]);
            values[o] = fromDeferred ? dv[a++] : uv[b++];
        }
        return new LateElements(k.Tensor, positions, values);
    }

    /// <inheritdoc />
    internal override IEnumerable<LateElements> LateElements() => _late ?? [];

    /// <inheritdoc />
    internal override bool MergeAgain => _mergeAgain;
}
