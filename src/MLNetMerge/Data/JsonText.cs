using System.Text.Json;

namespace MLNetMerge.Data;

/// <summary>The one set of JSON writer options for the files MLNetMerge writes (manifests, configs, reports): indented,
/// shared so that no call allocates its own.</summary>
internal static class JsonText
{
    /// <summary>Indented output, default property names and encoder.</summary>
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
