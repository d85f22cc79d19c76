namespace MLNetMerge;

/// <summary>
/// An alignment stage was given data it cannot use: no data for a task of the merged model (or data for a task it does
/// not have), an empty dataset, examples of the wrong size, or a class count that disagrees with the task's head.
/// </summary>
/// <param name="task">The task concerned, or null.</param>
/// <param name="message">What was found and what was expected.</param>
public sealed class AlignmentDataException(string? task, string message)
    : MergeException(null, null, task is null ? message : $"task '{task}': {message}")
{
    /// <summary>The task concerned, if any.</summary>
    public string? Task { get; } = task;
}
