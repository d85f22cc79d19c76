namespace MLNetMerge.Merging;

/// <summary>One unit of a merge stage: a whole tensor (<paramref name="Length"/> = its size) or one slice of it.</summary>
/// <param name="Tensor">Index into the plan's tensors.</param>
/// <param name="Start">First element.</param>
/// <param name="Length">Elements.</param>
internal readonly record struct MergeWorkItem(int Tensor, long Start, int Length)
{
    /// <summary>Tensors in <paramref name="order"/>, each whole (slice 0) or cut into slices of <paramref name="slice"/> elements.</summary>
    internal static List<MergeWorkItem> Of(MergePlan plan, int[] order, int slice)
    {
        var items = new List<MergeWorkItem>();
        foreach (int index in order)
        {
            long n = plan.Tensors[index].ElementCount;
            // A tensor without elements is one empty item either way (no slice would ever write it).
            if (slice == 0 || n == 0) { items.Add(new MergeWorkItem(index, 0, checked((int)n))); continue; }
            for (long start = 0; start < n; start += slice) items.Add(new MergeWorkItem(index, start, (int)Math.Min(slice, n - start)));
        }
        return items;
    }

    /// <summary>
    /// A sample of the items (<see cref="MergeRun.PassSampling"/>): of item k, <c>⌊length / every⌋</c> elements (at least 1)
    /// from an offset that a multiplicative hash of k spreads over the item (aligned to 16 elements where it can be), so the
    /// same items always give the same sample.
    /// </summary>
    internal static List<MergeWorkItem> Sampled(List<MergeWorkItem> items, int every)
    {
        var sampled = new List<MergeWorkItem>(items.Count);
        for (int k = 0; k < items.Count; k++)
        {
            var item = items[k];
            int length = item.Length == 0 ? 0 : Math.Max(1, item.Length / every), room = item.Length - length;
            long offset = (long)((ulong)unchecked((uint)k * 2654435761u) * (ulong)(room + 1) >> 32) & ~15L;
            sampled.Add(new MergeWorkItem(item.Tensor, item.Start + offset, length));
        }
        return sampled;
    }

    /// <summary>A pass's partial results per tensor (plan order): one item's result, or a tensor's slices folded in order.</summary>
    internal static object?[] PerTensor(MergeRun run, MergePlan plan, List<MergeWorkItem> items, object?[] partials)
    {
        var result = new object?[plan.Tensors.Count];
        var seen = new bool[plan.Tensors.Count];
        for (int i = 0; i < items.Count; i++)
        {
            int t = items[i].Tensor;
            result[t] = seen[t] ? run.CombinePartials(result[t], partials[i]) : partials[i];
            seen[t] = true;
        }
        return result;
    }
}
