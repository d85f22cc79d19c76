using System.Text;
using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>The <c>README.md</c> model card of a merge output: method, reference, parameters, the inputs by file name and
/// SHA-256 (no paths: the card does not depend on where anything sits), the method's notes and the files written.</summary>
internal static class ModelCard
{
    public static string Write(MergeSummary s, IReadOnlyList<(string Role, string File, string Sha256)> inputs, IReadOnlyList<string> files)
    {
        var sb = new StringBuilder();
        sb.Append("# Merged model (").Append(s.Method.Name).Append(")\n\n");
        sb.Append("Produced by MLNetMerge with **").Append(s.Method.Name).Append("**: ").Append(s.Method.Summary).Append(".\n\n");
        sb.Append("Method reference: ").Append(s.Method.Reference).Append(".\n\n");
        sb.Append("Merged parameters: ").Append(s.MergedParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).Append(".\n\n");
        sb.Append("## Parameters\n\n| name | value |\n|---|---|\n");
        foreach (var (k, v) in s.Parameters.Effective()) sb.Append("| ").Append(k).Append(" | ").Append(Describe(v)).Append(" |\n");
        sb.Append("\n## Inputs\n\n| role | file | SHA-256 |\n|---|---|---|\n");
        foreach (var (name, path, sha) in inputs) sb.Append("| ").Append(name).Append(" | `").Append(path).Append("` | `").Append(sha).Append("` |\n");
        if (s.Notes.Count > 0)
        {
            sb.Append("\n## Run notes\n\n");
            foreach (var (k, v) in s.Notes.OrderBy(k => k.Key, StringComparer.Ordinal)) sb.Append("- ").Append(k).Append(": ").Append(v).Append('\n');
        }
        sb.Append("\n## Files\n\n");
        foreach (var f in files) sb.Append("- `").Append(f.Replace('\\', '/')).Append("`\n");
        if (s.Method.IsPerTask)
            sb.Append("\nPer-task method: `model.safetensors` holds the unified weights; `modulators.safetensors` holds each task's masks (8 per byte, least significant bit first), rescalers or low-rank factors. Task t's weights are rebuilt from them and the base (see the method reference), or written directly with `--materialize`.\n");
        return sb.ToString();
    }

    private static string Describe(ParameterValue v) => v switch
    {
        ParameterValue.Scalar s => MergeRecipe.Number(s.Value),
        ParameterValue.Text t => t.Value,
        ParameterValue.Gradient g => "[" + string.Join(", ", g.Values.Select(MergeRecipe.Number)) + "]",
        _ => "per-tensor filters",
    };
}
