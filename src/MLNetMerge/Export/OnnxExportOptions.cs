using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;

namespace MLNetMerge.Export;

/// <summary>Settings of an ONNX export (<see cref="Export.OnnxExporter"/>, <c>mlnetmerge export</c>, a recipe's <c>export:</c>).</summary>
internal sealed record OnnxExportOptions
{
    /// <summary>
    /// The encoder's architecture: a <see cref="VisionTransformerConfig"/> (ViT or CLIP vision), a
    /// <see cref="TextEncoderConfig"/> (BERT, RoBERTa) or an <see cref="MlpConfig"/>. Required. Optional parts (poolers,
    /// CLIP projection) follow the weights: they are exported when the model has their tensors.
    /// </summary>
    public object? Architecture { get; init; }

    /// <summary>Text encoders: how the hidden states become the embedding (the model's own, from its
    /// <c>1_Pooling/config.json</c>, when exported from a merged model that knows its architecture). Default: the pooler
    /// (CLS when the model has none).</summary>
    public MLNetMerge.Nn.Architectures.TextPooling? TextPooling { get; init; }

    /// <summary>Write one <c>{task}.onnx</c> per task (encoder + that task's head). Default true.</summary>
    public bool PerTask { get; init; } = true;

    /// <summary>Write <c>model.onnx</c>: the shared encoder once with every task's head, outputs <c>logits_{task}</c>. Default false.</summary>
    public bool MultiHead { get; init; }

    /// <summary>
    /// Write <c>tasks.onnx</c>: EMR-Merging's per-task models in one file that stores θ0 and τuni once plus each task's packed
    /// masks and the rescalers, and builds every task's weights in the graph (outputs <c>logits_{task}</c> and
    /// <c>embedding_{task}</c>). Needs <see cref="BaseModel"/>. Default false.
    /// </summary>
    public bool PerTaskSingleFile { get; init; }

    /// <summary>
    /// The family's pretrained checkpoint θ0, needed by <see cref="PerTaskSingleFile"/> (a merged model stores θ0 + τuni
    /// only), and used by <see cref="PerTask"/> to rebuild EMR task weights a loaded model does not hold (merged without
    /// materializing its tasks).
    /// </summary>
    public MLNetMerge.Checkpoints.ICheckpointReader? BaseModel { get; init; }

    /// <summary>Name of a task's head weight (classes, E) among its head tensors. Default <c>classifier.weight</c>.</summary>
    public string HeadWeight { get; init; } = "classifier.weight";

    /// <summary>Name of a task's head bias (classes). Default <c>classifier.bias</c>; a missing bias exports a bias-free head.</summary>
    public string HeadBias { get; init; } = "classifier.bias";

    /// <summary>Symbolic name of the batch axis of <c>pixel_values</c>, <c>logits</c> and <c>embedding</c>. Default <c>batch</c>.</summary>
    public string BatchDimension { get; init; } = "batch";

    /// <summary>
    /// Per-channel pixel mean of a normalisation the exported vision graph does first: <c>x' = (x − mean[c]) / std[c]</c>
    /// on <c>pixel_values</c> (batch, C, H, W). For inputs such as ML.NET's <c>ExtractPixels</c>, which can only offset
    /// and scale every channel by the same scalar. Set together with <see cref="PixelStd"/>, C values each. Default null:
    /// the graph takes pixels already normalised as the encoder was trained.
    /// </summary>
    public float[]? PixelMean { get; init; }

    /// <summary>Per-channel pixel standard deviation (all positive) of the in-graph normalisation; see <see cref="PixelMean"/>.</summary>
    public float[]? PixelStd { get; init; }

    /// <summary>Replace an existing output directory. Default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>How the files are written (external data above a size).</summary>
    public OnnxWriteOptions Write { get; init; } = new();
}
