namespace MLNetMerge.MLNet;

/// <summary>
/// How an ONNX model is bound into ML.NET: the graph inputs and outputs as columns (ML.NET requires the column names to
/// be the graph's value names), fixed shapes for symbolic axes other than the batch, and where ONNX Runtime runs.
/// </summary>
internal sealed class OnnxScoringSettings
{
    /// <summary>Input columns = graph input names (e.g. <c>pixel_values</c>, or <c>input_ids</c> and <c>attention_mask</c>).</summary>
    public required string[] InputColumns { get; init; }

    /// <summary>Output columns = graph output names (e.g. <c>embedding</c>, <c>logits</c>).</summary>
    public required string[] OutputColumns { get; init; }

    /// <summary>
    /// Shapes that replace the model's for the named values. Needed for every symbolic axis besides the batch: a text
    /// encoder's <c>input_ids</c>/<c>attention_mask</c> (batch, sequence) must be given as <c>[1, T]</c> for a fixed
    /// sequence length T; without it <c>Fit</c> passes and <c>Transform</c> fails later. Saved with the model.
    /// </summary>
    public IDictionary<string, int[]>? ShapeDictionary { get; init; }

    /// <summary>
    /// CUDA device to run on, or null for CPU (ML.NET then uses <c>MLContext.GpuDeviceId</c>). Needs the
    /// Microsoft.ML.OnnxRuntime.Gpu package and CUDA; not saved with the model: a loaded model runs where its loading
    /// context's <c>GpuDeviceId</c>/<c>FallbackToCpu</c> say.
    /// </summary>
    public int? GpuDeviceId { get; init; }

    /// <summary>With <see cref="GpuDeviceId"/>: fall back to the CPU when the GPU cannot be used, instead of failing.</summary>
    public bool FallbackToCpu { get; init; }

    /// <summary>Protobuf recursion limit when ONNX Runtime's managed side parses the model. Default 100 (ML.NET's).</summary>
    public int RecursionLimit { get; init; } = 100;
}
