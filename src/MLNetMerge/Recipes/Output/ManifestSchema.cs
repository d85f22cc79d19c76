using System.Text.Json;

namespace MLNetMerge.Recipes;

/// <summary>
/// The types of the <c>manifest.json</c> fields a merge output is read back by (<see cref="OutputFormat"/>): a damaged or
/// hand-edited manifest is refused with one line naming the file and the field, where reading it failed inside the JSON
/// reader ("requires an element of type 'Number'") or on a missing key.
/// </summary>
internal static class ManifestSchema
{
    private static readonly string[] Required = ["method", "tasks", "parameters_yaml", "notes", "merged_parameters"];
    private static readonly string[] OptionalStrings = ["base", "base_sha256", "config"];

    /// <summary>Checks <paramref name="root"/>, the manifest at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">A field missing or of another type.</exception>
    public static void Check(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) Fail(path, "the manifest", "a JSON object", root);
        foreach (string key in Required)
            if (!root.TryGetProperty(key, out _)) throw new CheckpointFormatException(path, null, $"'{key}' is missing; a merge output's manifest records it.");
        Kind(path, root, "method", JsonValueKind.String, "a string");
        Each(path, root.GetProperty("tasks"), "tasks", JsonValueKind.String, "a string");
        Kind(path, root, "parameters_yaml", JsonValueKind.String, "a string");
        Map(path, root.GetProperty("notes"), "notes", JsonValueKind.String, "a string");
        if (!root.GetProperty("merged_parameters").TryGetInt64Safe()) Fail(path, "'merged_parameters'", "a whole number", root.GetProperty("merged_parameters"));
        foreach (string key in OptionalStrings)
            if (root.TryGetProperty(key, out var v) && v.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) Fail(path, $"'{key}'", "a string", v);
        if (root.TryGetProperty("seed", out var seed) && !(seed.ValueKind == JsonValueKind.Number && seed.TryGetUInt64(out _))) Fail(path, "'seed'", "a whole number from 0 up", seed);
        if (root.TryGetProperty("per_task", out var perTask) && perTask.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) Fail(path, "'per_task'", "true or false", perTask);
        if (root.TryGetProperty("model_parameters_yaml", out var models)) Map(path, models, "model_parameters_yaml", JsonValueKind.String, "a string");
        if (root.TryGetProperty("stages", out var stages))
        {
            if (stages.ValueKind != JsonValueKind.Array) Fail(path, "'stages'", "a list", stages);
            int i = 0;
            foreach (var stage in stages.EnumerateArray())
            {
                string at = $"stages[{i++}]";
                if (stage.ValueKind != JsonValueKind.Object) Fail(path, at, "an object { method, parameters_yaml, state }", stage);
                foreach (string key in new[] { "method", "parameters_yaml", "state" })
                    if (!stage.TryGetProperty(key, out _)) throw new CheckpointFormatException(path, null, $"{at}.{key} is missing; a saved stage records it.");
                if (stage.GetProperty("method").ValueKind != JsonValueKind.String) Fail(path, $"{at}.method", "a string", stage.GetProperty("method"));
                if (stage.GetProperty("parameters_yaml").ValueKind != JsonValueKind.String) Fail(path, $"{at}.parameters_yaml", "a string", stage.GetProperty("parameters_yaml"));
                Each(path, stage.GetProperty("state"), $"{at}.state", JsonValueKind.String, "a string");
            }
        }
    }

    private static bool TryGetInt64Safe(this JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out _);

    private static void Kind(string path, JsonElement root, string key, JsonValueKind kind, string expected)
    {
        var v = root.GetProperty(key);
        if (v.ValueKind != kind) Fail(path, $"'{key}'", expected, v);
    }

    private static void Each(string path, JsonElement list, string at, JsonValueKind kind, string expected)
    {
        if (list.ValueKind != JsonValueKind.Array) Fail(path, $"'{at}'", $"a list of {expected}s", list);
        int i = 0;
        foreach (var v in list.EnumerateArray())
        {
            if (v.ValueKind != kind) Fail(path, $"'{at}'[{i}]", expected, v);
            i++;
        }
    }

    private static void Map(string path, JsonElement map, string at, JsonValueKind kind, string expected)
    {
        if (map.ValueKind != JsonValueKind.Object) Fail(path, $"'{at}'", "an object", map);
        foreach (var p in map.EnumerateObject())
            if (p.Value.ValueKind != kind) Fail(path, $"'{at}.{p.Name}'", expected, p.Value);
    }

    private static void Fail(string path, string what, string expected, JsonElement found) =>
        throw new CheckpointFormatException(path, null, $"{what} is {(found.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null ? found.GetRawText() : "a " + found.ValueKind.ToString().ToLowerInvariant())}; expected {expected}. The manifest is damaged: merge again.");
}
