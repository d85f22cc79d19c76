namespace MLNetMerge.Encoders;

/// <summary>
/// The family's files describe no encoder the engine runs — no <c>config.json</c>, a <c>model_type</c> it does not
/// know, or weights without the encoder's tensors — which a merge alone does not need: it merges the tensors and writes
/// no config. Every other failure to read the files (a malformed config.json or settings file) is an error of its own,
/// so that a merge never drops the config of an encoder it could not read.
/// </summary>
internal sealed class NoEncoderException(string? file, string? tensor, string message, Exception? inner = null)
    : MergeException(file, tensor, message, inner);
