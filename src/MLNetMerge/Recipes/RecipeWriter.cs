using System.Text;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>Writes a resolved recipe as YAML, deterministically (fixed key order, invariant numbers).</summary>
internal static class RecipeWriter
{
    /// <summary>The recipe as YAML. Paths are written relative to <paramref name="relativeTo"/> (the folder the YAML will sit
    /// in, so that it runs from there to the same files and the same output), or, when null, as bare file names (the
    /// portable form stored in model metadata, which must not depend on where anything sits).</summary>
    public static string Write(MergeRecipe r, MergeParameters resolved, string? relativeTo)
    {
        string PathText(string path) => relativeTo is null ? Path.GetFileName(path) : Path.GetRelativePath(relativeTo, path).Replace('\\', '/');
        var sb = new StringBuilder();
        sb.Append("version: ").Append(MergeRecipe.SchemaVersion).Append('\n');
        sb.Append("method: ").Append(r.Method).Append('\n');
        sb.Append("base: ").Append(Quote(PathText(r.Base))).Append('\n');
        sb.Append("models:\n");
        for (int i = 0; i < r.Models.Count; i++)
        {
            var m = r.Models[i];
            sb.Append("  - name: ").Append(m.Name).Append('\n');
            sb.Append("    path: ").Append(Quote(PathText(m.Path))).Append('\n');
            var per = resolved.PerModel(i);
            if (per.Count > 0)
            {
                sb.Append("    parameters:\n");
                foreach (var (k, v) in per.OrderBy(k => k.Key, StringComparer.Ordinal)) AppendValue(sb, "      ", k, v);
            }
        }
        var effective = resolved.Effective();
        sb.Append(effective.Count == 0 ? "parameters: {}\n" : "parameters:\n"); // a method without parameters (model_stock) still writes a mapping
        foreach (var (k, v) in effective) AppendValue(sb, "  ", k, v);
        sb.Append("heads: ").Append(Quote(r.Heads)).Append('\n');
        if (r.DType is { } d) sb.Append("dtype: ").Append(d.ToRecipeName()).Append('\n');
        sb.Append("seed: ").Append(r.Seed).Append('\n');
        if (r.MaxShardBytes is { } s) sb.Append("max_shard_size: ").Append(s).Append('\n');
        if (r.AllowNonFinite) sb.Append("allow_nonfinite: true\n");
        if (r.Materialize.Count > 0) sb.Append("materialize: [").Append(string.Join(", ", r.Materialize)).Append("]\n");
        if (r.Output is not null && relativeTo is not null) sb.Append("output: ").Append(Quote(PathText(r.Output))).Append('\n');
        foreach (var key in new[] { "align", "evaluate", "sweep", "export" })
            if (r.Sections.TryGetValue(key, out var node)) sb.Append(Section(key, relativeTo is null ? node : Relocated(node, r, relativeTo)));
        return sb.ToString();
    }

    /// <summary>A copy of a section whose path values (<c>zoo</c>, <c>report</c>, <c>onnx</c>, at any depth) are rewritten
    /// from the recipe's folder to <paramref name="relativeTo"/>.</summary>
    private static YamlNode Relocated(YamlNode node, MergeRecipe r, string relativeTo) => node switch
    {
        YamlMappingNode map => new YamlMappingNode(map.Children.Select(kv => new KeyValuePair<YamlNode, YamlNode>(kv.Key,
            kv.Key is YamlScalarNode { Value: "zoo" or "report" or "onnx" } && kv.Value is YamlScalarNode { Value: { } path }
                ? new YamlScalarNode(Path.GetRelativePath(relativeTo, r.ResolvePath(path)).Replace('\\', '/'))
                : Relocated(kv.Value, r, relativeTo)))) { Style = map.Style },
        YamlSequenceNode seq => new YamlSequenceNode(seq.Children.Select(c => Relocated(c, r, relativeTo))) { Style = seq.Style },
        _ => node,
    };

    /// <summary>A later-stage section (<c>align</c>, <c>evaluate</c>, <c>sweep</c>, <c>export</c>) as YAML, styles kept.</summary>
    public static string Section(string key, YamlNode node)
    {
        var root = new YamlMappingNode { { key, node } };
        using var text = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(text, assignAnchors: false);
        var lines = text.ToString().Replace("\r\n", "\n").Split('\n').Where(l => l.Length > 0 && l != "..." && l != "---");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>A <c>parameters:</c>-style YAML mapping of the given values (keys sorted).</summary>
    public static string Parameters(IReadOnlyDictionary<string, ParameterValue> values)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in values.OrderBy(k => k.Key, StringComparer.Ordinal)) AppendValue(sb, "", k, v);
        return sb.ToString();
    }

    private static void AppendValue(StringBuilder sb, string indent, string key, ParameterValue v)
    {
        switch (v)
        {
            case ParameterValue.Scalar s: sb.Append(indent).Append(key).Append(": ").Append(Num(s.Value)).Append('\n'); break;
            case ParameterValue.Text t: sb.Append(indent).Append(key).Append(": ").Append(Quote(t.Value)).Append('\n'); break;
            case ParameterValue.Gradient g: sb.Append(indent).Append(key).Append(": [").Append(string.Join(", ", g.Values.Select(Num))).Append("]\n"); break;
            case ParameterValue.Filtered f:
                sb.Append(indent).Append(key).Append(":\n");
                foreach (var (filter, value) in f.Entries)
                {
                    sb.Append(indent).Append("  - ");
                    if (filter is not null) sb.Append("filter: ").Append(Quote(filter)).Append('\n').Append(indent).Append("    ");
                    sb.Append("value: ").Append(value switch
                    {
                        ParameterValue.Scalar s => Num(s.Value),
                        ParameterValue.Text t => Quote(t.Value),
                        ParameterValue.Gradient g => "[" + string.Join(", ", g.Values.Select(Num)) + "]",
                        _ => throw new InvalidOperationException("nested filters are not supported."),
                    }).Append('\n');
                }
                break;
        }
    }

    private static string Num(double d) => double.IsNaN(d) ? "null" : MergeRecipe.Number(d);

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/') && !double.TryParse(s, out _) && s is not ("true" or "false" or "null")
            ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
