using System.Text.Json;

namespace MLNetMerge.Data;

/// <summary>
/// sentence-transformers' <c>1_Pooling/config.json</c>: how a text encoder's hidden states become its embedding — the
/// first token's (<c>pooling_mode_cls_token</c>) or the mean over the tokens the mask keeps
/// (<c>pooling_mode_mean_tokens</c>); the other modes are written false.
/// </summary>
internal static class PoolingConfigFile
{
    /// <summary>The file's path inside a model folder.</summary>
    public static readonly string RelativePath = Path.Combine("1_Pooling", "config.json");

    /// <summary>Writes the file at <paramref name="path"/> (its folder created).</summary>
    /// <param name="path">Where.</param>
    /// <param name="hiddenSize">Width of the embedding (sentence-transformers records it here).</param>
    /// <param name="firstToken">First-token pooling; false: the masked mean.</param>
    public static void Write(string path, int hiddenSize, bool firstToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteNumber("word_embedding_dimension", hiddenSize);
        w.WriteBoolean("pooling_mode_cls_token", firstToken);
        w.WriteBoolean("pooling_mode_mean_tokens", !firstToken);
        w.WriteBoolean("pooling_mode_max_tokens", false);
        w.WriteBoolean("pooling_mode_mean_sqrt_len_tokens", false);
        w.WriteEndObject();
    }
}
