namespace MLNetMerge;

/// <summary>Settings of <see cref="MergingCatalog.Evaluate"/>: which protocols score the merged model, and where the labels are.
/// The protocols are those of Kong et al. 2024 (arXiv:2412.13526): Current (the model's own <c>Score</c>: the merged
/// encoder with the task's head), KNN (the class whose k labeled anchors lie nearest on average in the
/// <c>Embedding</c> space) and FT-Classifier (a head trained on k unlabeled examples per class to match the fine-tuned
/// model, then scored).</summary>
public sealed class EvaluationOptions
{
    /// <summary>Score with the Current protocol. Default true.</summary>
    public bool Current { get; set; } = true;

    /// <summary>Anchors per class of each KNN protocol run (needs a labeled pool). Default [5].</summary>
    public IReadOnlyList<int> KnnShots { get; set; } = [5];

    /// <summary>Examples per class of each FT-Classifier protocol run (needs a pool; its labels only balance the draw).
    /// Default none.</summary>
    public IReadOnlyList<int> FtClassifierShots { get; set; } = [];

    /// <summary>Draws of the few-shot protocols, reported as mean ± std. Default 5.</summary>
    public int Seeds { get; set; } = 5;

    /// <summary>The seed every few-shot draw derives from (draw r of task t is its own stream of this seed; any 64-bit
    /// value). Default 0.</summary>
    public ulong Seed { get; set; }

    /// <summary>The label column of the test view and the pool: a key, an integer class index or a class name. Default <c>Label</c>.</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The one task to evaluate (a one-task model needs it): its rows where the view has a
    /// <see cref="MergeColumns.Task"/> column, else every row. Default null: every task, by that column.</summary>
    public string? Task { get; set; }
}
