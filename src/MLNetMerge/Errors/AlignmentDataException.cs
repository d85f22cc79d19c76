namespace MLNetMerge.Errors;

/// <summary>
/// An alignment stage was given data it cannot use: no data for a task of the merged model, data for a task the model
/// does not have, an empty dataset, examples of the wrong size, or a saved state that does not fit the model.
/// The message names the task (as <see cref="MergeException.File"/>, when there is one) and what was expected.
/// </summary>
public sealed class AlignmentDataException(string? task, string message)
    : MergeException(task is null ? null : $"task '{task}'", null, message)
{
    /// <summary>The task concerned, if any.</summary>
    public string? Task { get; } = task;
}
