namespace MLNetMerge.Encoders;

/// <summary>
/// The family has no <c>config.json</c> (beside its base, or given): the usual case of a merge of bare checkpoints,
/// which merges the tensors without running an encoder. Every other reason the family's files describe no encoder the
/// engine runs (another <c>model_type</c>, a feature it does not run, a malformed value) is a
/// <see cref="MergeException"/>, which a merge reports as a warning (<see cref="ModelFamily.ArchitectureProblem"/>).
/// </summary>
internal sealed class NoEncoderException(string? file, string? tensor, string message, Exception? inner = null)
    : MergeException(file, tensor, message, inner);
