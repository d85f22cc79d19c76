using System.Text.Json;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Encoders;

/// <summary>
/// How a text encoder reads its input and pools its output, read from the model's own files the way Hugging Face and
/// sentence-transformers lay them out beside <c>config.json</c>:
/// <list type="bullet">
/// <item><c>vocab.txt</c>: the WordPiece vocabulary (token id = line number);</item>
/// <item><c>tokenizer_config.json</c>: <c>do_lower_case</c> (default true, as BERT's uncased tokenizers) and
/// <c>model_max_length</c>;</item>
/// <item><c>sentence_bert_config.json</c>: <c>max_seq_length</c>, which wins over <c>model_max_length</c>;</item>
/// <item><c>1_Pooling/config.json</c>: <c>pooling_mode_mean_tokens</c> or <c>pooling_mode_cls_token</c>; without it the
/// model's own pooled output (the tanh pooler when the checkpoint has one, else the first token).</item>
/// </list>
/// Without any length file the sequence length is the model's position count.
/// </summary>
/// <param name="SequenceLength">Tokens per example T (inputs are padded or truncated to it).</param>
/// <param name="Pooling">How the hidden states become the embedding a head reads.</param>
/// <param name="VocabularyPath">Absolute path of <c>vocab.txt</c>, or null when the model folder has none.</param>
/// <param name="LowerCase">Whether the tokenizer lower-cases and strips accents.</param>
internal sealed record TextSettings(int SequenceLength, TextPooling Pooling, string? VocabularyPath, bool LowerCase)
{
    /// <summary>Where <see cref="SequenceLength"/> came from, for messages: a file and its key, or the position count.</summary>
    public string LengthSource { get; init; } = "the model's position count";

    /// <summary>File names (relative to the model folder) that carry text settings, in the order they are looked for.</summary>
    public static readonly IReadOnlyList<string> FileNames =
        ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "sentence_bert_config.json", Data.PoolingConfigFile.RelativePath];

    /// <summary>Reads the settings of the text model in <paramref name="directory"/>.</summary>
    /// <param name="directory">The folder of the model's <c>config.json</c>.</param>
    /// <param name="positions">Positions the model can embed (its longest input).</param>
    /// <exception cref="MergeException">A settings file is not valid JSON or names an unsupported pooling.</exception>
    public static TextSettings Read(string directory, int positions)
    {
        string vocab = Path.Combine(directory, "vocab.txt");
        bool lower = true;
        int length = positions;
        string source = $"the model's position count ({positions})";
        string tokenizerFile = Path.Combine(directory, "tokenizer_config.json");
        if (ReadJson(tokenizerFile) is { } tokenizer)
        {
            if (Value(tokenizer, tokenizerFile, "do_lower_case", "true or false", v => v.ValueKind is JsonValueKind.True or JsonValueKind.False) is { } lc) lower = lc.GetBoolean();
            // Hugging Face writes a huge sentinel (1e30) when the tokenizer sets no limit: a length the model's positions
            // exceed means none; below them it must be a whole number of tokens.
            if (Value(tokenizer, tokenizerFile, "model_max_length", "a whole number from 1 up",
                    v => v.ValueKind == JsonValueKind.Number && v.GetDouble() is var x && (x > positions || (x >= 1 && x == Math.Floor(x)))) is { } ml
                && ml.GetDouble() is var max && max <= positions)
            {
                length = (int)max;
                source = tokenizerFile + ": model_max_length";
            }
        }
        string sbertFile = Path.Combine(directory, "sentence_bert_config.json");
        if (ReadJson(sbertFile) is { } sbert
            && Value(sbert, sbertFile, "max_seq_length", "a whole number from 1 up", v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 1) is { } msl)
        {
            length = Math.Min(msl.GetInt32(), positions);
            source = sbertFile + ": max_seq_length";
        }
        var pooling = TextPooling.Pooler;
        string poolingFile = Path.Combine(directory, Data.PoolingConfigFile.RelativePath);
        if (ReadJson(poolingFile) is { } pool)
        {
            bool Mode(string key) => Value(pool, poolingFile, key, "true or false", v => v.ValueKind is JsonValueKind.True or JsonValueKind.False) is { ValueKind: JsonValueKind.True };
            bool mean = Mode("pooling_mode_mean_tokens"), cls = Mode("pooling_mode_cls_token");
            pooling = mean && cls ? throw new MergeException(poolingFile, null, "sets both pooling_mode_mean_tokens and pooling_mode_cls_token; a model pools one way.")
                : mean ? TextPooling.Mean
                : cls ? TextPooling.Cls
                : throw new MergeException(poolingFile, null, "sets neither pooling_mode_mean_tokens nor pooling_mode_cls_token; those are the poolings the engine runs.");
        }
        return new TextSettings(length, pooling, File.Exists(vocab) ? Path.GetFullPath(vocab) : null, lower) { LengthSource = source };
    }

    /// <summary>Writes the settings as the files <see cref="Read"/> reads (<c>tokenizer_config.json</c>,
    /// <c>sentence_bert_config.json</c> and, for mean or CLS pooling, <c>1_Pooling/config.json</c>); the vocabulary file
    /// is the caller's. Returns the relative names written.</summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="hiddenSize">Width of the embedding (sentence-transformers records it in the pooling config).</param>
    public IReadOnlyList<string> Write(string directory, int hiddenSize)
    {
        var written = new List<string>();
        void Json(string name, Action<Utf8JsonWriter> body)
        {
            string path = Path.Combine(directory, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = File.Create(path))
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                body(w);
                w.WriteEndObject();
            }
            written.Add(name);
        }
        Json("tokenizer_config.json", w =>
        {
            w.WriteString("tokenizer_class", "BertTokenizer");
            w.WriteBoolean("do_lower_case", LowerCase);
            w.WriteNumber("model_max_length", SequenceLength);
        });
        Json("sentence_bert_config.json", w =>
        {
            w.WriteNumber("max_seq_length", SequenceLength);
            w.WriteBoolean("do_lower_case", LowerCase);
        });
        if (Pooling != TextPooling.Pooler)
        {
            Data.PoolingConfigFile.Write(Path.Combine(directory, Data.PoolingConfigFile.RelativePath), hiddenSize, firstToken: Pooling == TextPooling.Cls);
            written.Add(Data.PoolingConfigFile.RelativePath);
        }
        return written;
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new MergeException(path, null, "is not valid JSON: " + e.Message, e);
        }
        return root.ValueKind == JsonValueKind.Object ? root : throw new MergeException(path, null, $"holds a JSON {root.ValueKind.ToString().ToLowerInvariant()}; expected an object of settings.");
    }

    /// <summary>The value of <paramref name="key"/> when present (null when absent), which must pass <paramref name="valid"/>.</summary>
    /// <exception cref="MergeException">The value is of another type or out of range.</exception>
    private static JsonElement? Value(JsonElement settings, string path, string key, string expected, Func<JsonElement, bool> valid)
    {
        // null is Hugging Face's "not set": the key's default, as if absent.
        if (!settings.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return valid(v) ? v : throw new MergeException(path, null, $"'{key}' is {(v.ValueKind is JsonValueKind.String ? $"the string \"{v.GetString()}\"" : v.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? "a " + v.ValueKind.ToString().ToLowerInvariant() : v.GetRawText())}; expected {expected}.");
    }
}
