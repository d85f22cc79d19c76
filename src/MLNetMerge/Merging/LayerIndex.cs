using System.Text.RegularExpressions;

namespace MLNetMerge.Merging;

/// <summary>Finds the transformer-block index in a tensor name (<c>encoder.layer.3.</c>, <c>layers.11.</c>, <c>h.0.</c>, <c>blocks.2.</c>, <c>resblocks.7.</c>).</summary>
internal static partial class LayerIndex
{
    [GeneratedRegex(@"(?:^|\.)(?:layers?|h|blocks|resblocks)\.(\d+)(?:\.|$)", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>The block index, or -1 when the name has none.</summary>
    public static int Of(string tensorName)
    {
        var m = Pattern().Match(tensorName);
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, out int i) ? i : -1;
    }
}
