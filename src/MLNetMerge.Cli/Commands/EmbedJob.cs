using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// One <c>mlnetmerge embed</c> run: load an encoder, run it over an NPY batch (float32 images/features, or int64 token ids
/// with an optional mask for text), optionally apply a linear head, and write float32 NPY (N, E) or (N, K).
/// </summary>
internal sealed record EmbedJob
{
    /// <summary>The checkpoint.</summary>
    public required string ModelPath { get; init; }
    /// <summary>Output NPY path.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Input NPY path.</summary>
    public required string InputPath { get; init; }
    /// <summary>Architecture name, or null for config.json's <c>model_type</c>.</summary>
    public string? Architecture { get; init; }
    /// <summary>config.json, or null for the one beside the model.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Text only: attention mask NPY (N, T), nonzero = real token.</summary>
    public string? MaskPath { get; init; }
    /// <summary>Linear head checkpoint; when set, logits are written instead of embeddings.</summary>
    public string? HeadPath { get; init; }
    /// <summary>Examples per forward pass.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Text only: pooling of the hidden states; null: the model's own (its <c>1_Pooling/config.json</c>, else the pooler).</summary>
    public TextPooling? Pooling { get; init; }
    /// <summary>OpenCLIP only: the MLP activation (not stored in its checkpoints).</summary>
    public ActivationKind OpenClipActivation { get; init; } = ActivationKind.QuickGelu;

    /// <summary>Runs the job and returns the written array's shape.</summary>
    /// <exception cref="MergeException">Bad inputs: the message names the file and what was expected.</exception>
    public (int Count, int Width) Run(CancellationToken cancellationToken = default)
    {
        using var reader = CheckpointReader.Open(ModelPath);
        ArchitectureKind? kind;
        try { kind = Architecture is null ? null : ModelArchitecture.Parse(Architecture); }
        catch (ArgumentException e) { throw new MergeException(null, null, e.Message, e); }
        var architecture = ModelArchitecture.Load(reader, ConfigPath, kind, OpenClipActivation);
        var session = new EncoderSession(architecture);
        var weights = session.ReadWeights(reader);
        session.Load(name => weights[name]);
        float[] output;
        int count;
        if (architecture.Text is not { } text)
        {
            var dense = session.Model;
            var (data, shape) = NpyFile.ReadFloat32(InputPath);
            long per = shape.Skip(1).Aggregate(1L, (a, d) => a * d);
            if (shape.Length < 2 || per != dense.InputSize)
                throw new MergeException(InputPath, null, $"input of shape [{string.Join(", ", shape)}] does not fit {dense.ArchitectureName}: expected (N, …) with {dense.InputSize} values per example.");
            count = shape[0];
            output = EncoderInference.Embed(dense, data, count, BatchSize, cancellationToken);
        }
        else
        {
            var encoder = ((TextDenseEncoder)session.Model).Model;
            var (ids, shape) = NpyFile.ReadInt64(InputPath);
            if (shape.Length != 2) throw new MergeException(InputPath, null, $"token ids must be (N, T); got [{string.Join(", ", shape)}].");
            count = shape[0];
            bool[] mask = [];
            if (MaskPath is not null)
            {
                var (mv, ms) = NpyFile.ReadInt64(MaskPath);
                if (!ms.AsSpan().SequenceEqual(shape)) throw new MergeException(MaskPath, null, $"mask shape [{string.Join(", ", ms)}] differs from the ids' [{string.Join(", ", shape)}].");
                mask = mv.Select(v => v != 0).ToArray();
            }
            var tokenIds = new int[ids.Length];
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] < 0 || ids[i] >= encoder.Config.VocabSize)
                    throw new MergeException(InputPath, null, $"token id {ids[i]} at index {i} is outside the vocabulary of {encoder.Config.VocabSize}.");
                tokenIds[i] = (int)ids[i];
            }
            output = EncoderInference.EmbedText(encoder, tokenIds, mask, count, shape[1], Pooling ?? text.Pooling, BatchSize, cancellationToken);
        }
        int width = count == 0 ? 0 : output.Length / count;
        if (HeadPath is not null)
        {
            using var headReader = CheckpointReader.Open(HeadPath);
            var head = LinearHead.Load(headReader);
            if (head.EmbeddingSize != width) throw new MergeException(HeadPath, null, $"the head expects {head.EmbeddingSize}-wide embeddings; the model gives {width}.");
            output = EncoderInference.Classify(head, output, count);
            width = head.Classes;
        }
        NpyFile.Write(OutputPath, output, [count, width]);
        return (count, width);
    }
}
