using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>What a pipeline is fitted on: the family and, for alignment stages, per-task data.</summary>
/// <param name="Family">The checkpoints.</param>
/// <param name="Data">Per task name, the data alignment may use (unlabeled for transductive methods: pass
/// <see cref="MLNetMerge.Data.TaskDataset.WithoutLabels"/>).</param>
internal sealed record MergeInputs(ModelFamily Family, IReadOnlyDictionary<string, MLNetMerge.Data.TaskDataset>? Data = null);
