using System.Text.Json;
using MLNetMerge.Checkpoints;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>Where one Hugging Face tensor of an imported model came from.</summary>
/// <param name="Name">The Hugging Face name.</param>
/// <param name="Initializer">The ONNX initializer it was read from.</param>
/// <param name="Transposed">True when the initializer was stored <c>[in, out]</c> and was transposed.</param>
internal sealed record ImportedTensor(string Name, string Initializer, bool Transposed);

/// <summary>How a text graph's <c>embedding</c> output pools the hidden states.</summary>
internal enum GraphPooling
{
    /// <summary>The mean over the tokens the mask keeps.</summary>
    Mean,
    /// <summary>The first token's hidden state.</summary>
    FirstToken,
    /// <summary>BERT's tanh pooler over the first token.</summary>
    Pooler,
}

/// <summary>
/// A torch-exported ONNX encoder traced back to Hugging Face names and layouts (<see cref="TorchEncoderImporter"/>):
/// its hyper-parameters as read from the graph, the tensors, and where each came from.
/// </summary>
/// <param name="Source">The ONNX file.</param>
/// <param name="Config">Architecture and hyper-parameters.</param>
/// <param name="Tensors">The tensors by Hugging Face name, floats as float32 and buffers (<c>position_ids</c>) as int64.</param>
/// <param name="Map">Each float tensor's source initializer and orientation.</param>
internal sealed record ImportedEncoder(string Source, ImportedConfig Config, InMemoryCheckpoint Tensors, IReadOnlyList<ImportedTensor> Map)
{
    /// <summary>Tokenizer and pooling files copied from beside the ONNX file when present.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
         "sentence_bert_config.json", Data.PoolingConfigFile.RelativePath];

    /// <summary>Text: the pooling the graph's <c>embedding</c> output computes, written as <c>1_Pooling/config.json</c>
    /// (mean or first token) when no such file lies beside the source; null when the graph does not say.</summary>
    public GraphPooling? Pooling { get; init; }

    /// <summary>The engine's name of the architecture (<c>bert</c>, <c>vit</c>, <c>clip_vision</c>).</summary>
    public string ArchitectureName => Config.Architecture;

    /// <summary>The Hugging Face <c>config.json</c> of the imported model.</summary>
    public string ConfigJson() => JsonSerializer.Serialize(Config.ToJson(), MLNetMerge.Data.JsonText.Indented);

    /// <summary>
    /// Writes <c>model.safetensors</c>, <c>config.json</c>, <c>onnx_import.json</c> (format <c>mlnetmerge.onnx-import</c>, by
    /// which a later <c>import --force</c> recognises the folder; source, and each tensor's initializer and orientation) and the tokenizer files found beside the source into <paramref name="directory"/>; returns the files written.
    /// </summary>
    public IReadOnlyList<string> Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        string model = Path.Combine(directory, "model.safetensors");
        Tensors.Save(model);
        written.Add(model);
        string config = Path.Combine(directory, "config.json");
        Data.AtomicFile.Write(config, s => s.Write(System.Text.Encoding.UTF8.GetBytes(ConfigJson() + "\n")));
        written.Add(config);
        string map = Path.Combine(directory, OutputGuard.ImportRecord);
        var record = new Dictionary<string, object>
        {
            ["format"] = OutputGuard.OnnxImportFormat,
            [OutputContents.ManifestKey] = OutputContents.RecordName,
            ["source"] = Path.GetFileName(Source),
            ["source_sha256"] = FileHashes.Sha256(Source),
            ["architecture"] = ArchitectureName,
            ["tensors"] = Map.Select(m => new Dictionary<string, object> { ["name"] = m.Name, ["initializer"] = m.Initializer, ["transposed"] = m.Transposed }).ToList(),
        };
        Data.AtomicFile.Write(map, s => JsonSerializer.Serialize(s, record, MLNetMerge.Data.JsonText.Indented));
        written.Add(map);
        string from = Path.GetDirectoryName(Path.GetFullPath(Source)) ?? ".";
        foreach (var name in TokenizerFiles)
        {
            string src = Path.Combine(from, name), dst = Path.Combine(directory, name);
            if (!File.Exists(src) || Path.GetFullPath(src) == Path.GetFullPath(dst)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(src, dst, overwrite: true);
            written.Add(dst);
        }
        string pooling = Path.Combine(directory, Data.PoolingConfigFile.RelativePath);
        if (Pooling is GraphPooling.Mean or GraphPooling.FirstToken && !File.Exists(pooling))
        {
            Data.PoolingConfigFile.Write(pooling, Config.HiddenSize, firstToken: Pooling == GraphPooling.FirstToken);
            written.Add(pooling);
        }
        return written;
    }
}
