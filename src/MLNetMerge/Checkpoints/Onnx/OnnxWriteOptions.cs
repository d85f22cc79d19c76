namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>How ONNX files are written.</summary>
internal sealed class OnnxWriteOptions
{
    /// <summary>
    /// When the initializers add up to more than this many bytes, every initializer of at least
    /// <see cref="ExternalDataMinimumBytes"/> goes to an external data file <c>{model file name}.data</c> next to the model
    /// (offsets aligned to 4096 bytes), as protobuf cannot hold messages above 2 GiB. Default: 1.75 GiB. Set 0 to always
    /// write external data.
    /// </summary>
    public long ExternalDataThresholdBytes { get; init; } = 1792L << 20;

    /// <summary>Smallest initializer moved to external data. Default 1024 bytes.</summary>
    public long ExternalDataMinimumBytes { get; init; } = 1024;

    /// <summary>Value of the model's <c>producer_name</c>. Default <c>MLNetMerge</c>.</summary>
    public string ProducerName { get; init; } = "MLNetMerge";
}
