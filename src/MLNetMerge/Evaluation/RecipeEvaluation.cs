using MLNetMerge.Alignment;

namespace MLNetMerge.Evaluation;

/// <summary>One point of a sweep and its mean validation accuracy (Current protocol).</summary>
/// <param name="Parameters">Parameter name → value.</param>
/// <param name="ValidationAccuracy">Mean over tasks of the validation accuracy.</param>
internal sealed record SweepPoint(IReadOnlyDictionary<string, double> Parameters, double ValidationAccuracy);

/// <summary>One alignment row of a results table: a stage fitted after the selected merge.</summary>
/// <param name="Name">Row name, <c>{merge method}+{stage}</c> (with the distinguishing parameters when a stage repeats).</param>
/// <param name="Stage">The stage's estimator (its name and effective parameters).</param>
/// <param name="Transductive">Whether it fitted on unlabeled test inputs.</param>
/// <param name="Data">What it consumed, in words.</param>
/// <param name="Evaluation">Test results under the <see cref="RecipeEvaluation.AlignedProtocol"/> protocol (one run per seed for
/// few-shot stages).</param>
/// <param name="Models">The fitted models (one per seed).</param>
internal sealed record AlignmentRow(string Name, IAlignmentEstimator Stage, bool Transductive, string Data, ModelEvaluation Evaluation,
    IReadOnlyList<AlignedModel> Models);

/// <summary>Everything a recipe's evaluation reports, in the seeds' table layout.</summary>
/// <param name="Family">Zoo name (or base path).</param>
/// <param name="Method">Method name.</param>
/// <param name="Tasks">Task names in order.</param>
/// <param name="Protocols">Protocol names in order.</param>
/// <param name="Merged">The merged model's row (hyperparameters = the selected sweep point, if any).</param>
/// <param name="Individual">Upper bound: each fine-tuned model on its own task.</param>
/// <param name="Base">Lower bound: the base encoder with each task's head.</param>
/// <param name="Sweep">Every sweep point, in grid order (empty without a sweep).</param>
internal sealed record RecipeEvaluation(string Family, string Method, IReadOnlyList<string> Tasks, IReadOnlyList<string> Protocols,
    ModelEvaluation Merged, ModelEvaluation Individual, ModelEvaluation Base, IReadOnlyList<SweepPoint> Sweep)
{
    /// <summary>Protocol name of an alignment stage's own predictions.</summary>
    public const string AlignedProtocol = "aligned";

    /// <summary>A row per alignment stage, in recipe order (empty without stages).</summary>
    public IReadOnlyList<AlignmentRow> Alignment { get; init; } = [];
}
