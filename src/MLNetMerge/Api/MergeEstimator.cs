using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetMerge.Alignment;
using MLNetMerge.Merging;
using MLNetMerge.MLNet;

namespace MLNetMerge;

/// <summary>
/// Merges a <see cref="MergeFamily"/> with one method (and, when appended, aligns the merge with one
/// <see cref="AlignmentStage"/>) and returns ML.NET's own components: per graph an <c>OnnxTransformer</c> running the
/// merged encoder and the heads, then the steps that turn each <c>Score</c> into a <c>PredictedLabel</c> key over the
/// task's class names. The result is a <see cref="TransformerChain{TLastTransformer}"/> that composes with any ML.NET
/// pipeline and saves with <c>mlContext.Model.Save</c>; a fresh process loads it after
/// <see cref="MergingCatalog.RegisterAssembly"/> (the argmax and tokenizer steps are CustomMappings).
/// <para>Columns: <see cref="MergeColumns"/>. The view given to <see cref="Fit"/> is read only by an alignment stage
/// (its rows, of <see cref="MergeOptions.Task"/> or split by the <see cref="MergeColumns.Task"/> column; unlabeled, but
/// for a stage that takes labels, which reads <see cref="AlignmentOptions.LabelColumnName"/>, and a few-shot stage, which
/// balances its draw per class with that column when the view has it, as a recipe's fit does); a merge alone uses only
/// its schema.</para>
/// </summary>
public sealed class MergeEstimator : IEstimator<TransformerChain<ITransformer>>
{
    private readonly MLContext _ml;
    private readonly MergeOptions _options;

    internal MergeOptions Options => _options;

    internal MergeEstimator(MLContext ml, MergeFamily family, MergeOptions options, AlignmentStage? stage = null, ulong? seed = null)
    {
        _ml = ml ?? throw new ArgumentNullException(nameof(ml));
        Family = family ?? throw new ArgumentNullException(nameof(family));
        // A copy: changing the options object afterwards (one object reused for an estimator per task) changes no
        // estimator already made; the checks below hold for what Fit will use.
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Snapshot();
        Stage = stage;
        options = _options;
        Method = MergeMethods.Find(options.MethodName).Method;
        if (options.Task is { } task && !family.TaskNames.Contains(task))
            throw new ArgumentException($"the family has no task '{task}' (tasks: {string.Join(", ", family.TaskNames)}).", nameof(options));
        foreach (var name in options.Weights.Keys.Where(k => !family.TaskNames.Contains(k)))
            throw new ArgumentException($"a weight is given for task '{name}', which the family does not have (tasks: {string.Join(", ", family.TaskNames)}).", nameof(options));
        int count = family.TaskNames.Count;
        if (count < Method.MinModels || count > Method.MaxModels)
            throw new ArgumentException($"{Method.Name} merges {(Method.MinModels == Method.MaxModels ? $"exactly {Method.MinModels}" : $"{Method.MinModels} to {(Method.MaxModels == int.MaxValue ? "any number of" : Method.MaxModels)}")} fine-tuned models; the family has {count} ({string.Join(", ", family.TaskNames)}): load a family of {Method.MinModels} with LoadFamily(base, models).", nameof(family));
        if (options.Task is { } served && stage is { Method.MergesEveryTask: true })
            throw new ArgumentException($"alignment stage '{stage.Name}' merges the task vectors again from every task's data, so a transformer serving one task ('{served}') cannot fit it; leave {nameof(MergeOptions.Task)} unset and fit on a view of every task (its '{MergeColumns.Task}' column naming each row's task).", nameof(stage));
        if (options.Weights.Count > 0 && !Method.Parameters.Any(p => p.Name == "weight"))
            throw new ArgumentException($"{Method.Name} takes no per-model weight.", nameof(options));
        // Parameters are checked against the method's declaration now, not at Fit.
        _ = Parameters();
        // An unset seed is drawn now, once: Fit and ToRecipeYaml use the same one, so the recipe reproduces the fit.
        Seed = seed ?? options.Seed ?? DrawSeed();
    }

    /// <summary>The seed of the merge and its stage: <see cref="MergeOptions.Seed"/>, or the one drawn from the context
    /// when the estimator was made.</summary>
    internal ulong Seed { get; }

    /// <summary>The family being merged.</summary>
    public MergeFamily Family { get; }

    /// <summary>The alignment stage run after the merge, or null.</summary>
    public AlignmentStage? Stage { get; }

    internal MergeMethod Method { get; }

    /// <summary>Whether every task runs the same encoder weights (one <c>Embedding</c> column): not for per-task merge
    /// methods, nor for stages that give each task its own layer.</summary>
    internal bool SharedEncoder => !Method.IsPerTask && (Stage?.SharesEncoder ?? true);

    /// <summary>The tasks the fitted transformer serves: <see cref="MergeOptions.Task"/>, or every task of the family.</summary>
    public IReadOnlyList<string> Tasks => _options.Task is { } t ? [t] : Family.TaskNames;

    /// <summary>This merge followed by <paramref name="stage"/> (one stage per merge).</summary>
    /// <exception cref="InvalidOperationException">A stage is already appended.</exception>
    /// <exception cref="ArgumentException">The merge serves one task (<see cref="MergeOptions.Task"/>) and the stage merges
    /// again from every task's data (AdaMerging, CART++, RegMean, Fisher, trust region, Tinting).</exception>
    public MergeEstimator Append(AlignmentStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        if (Stage is not null)
            throw new InvalidOperationException($"this merge is already followed by '{Stage.Name}'; a merge takes one alignment stage.");
        return new MergeEstimator(_ml, Family, _options, stage, Seed);
    }

    /// <summary>Merges, fits the alignment stage on <paramref name="input"/>'s rows when there is one, and returns the
    /// chain serving <see cref="Tasks"/>.</summary>
    /// <exception cref="AlignmentDataException">The view lacks the family's input column, or a stage's rows are unusable.</exception>
    /// <exception cref="IncompatibleModelsException">The checkpoints do not merge, or the stage learned something an
    /// encoder-plus-head graph cannot hold.</exception>
    public TransformerChain<ITransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (merged, aligned) = FitModels(input);
        return MergedChain.Create(_ml, Family, merged, aligned, Tasks, _options, SharedEncoder);
    }

    /// <summary>The merged model and the stage's fitted model (the engine's view of <see cref="Fit"/>).</summary>
    internal (MergedModel Merged, AlignedModel? Aligned) FitModels(IDataView input)
    {
        MergedChain.CheckInput(Family, input.Schema);
        ulong seed = Seed;
        using var log = new MLNetLog(_ml, "MLNetMerge." + nameof(MergeEstimator), Method.Name);
        var progress = new LoggedProgress(log, _options.Progress);
        var execution = new MergeExecutionOptions { Seed = seed };
        log.Info(FormattableString.Invariant($"merging {Family.TaskNames.Count} tasks ({string.Join(", ", Family.TaskNames)}) with {Method.Name}, seed {seed}"));
        var merged = MergeExecutor.RunInMemory(Family.Family, Method, Parameters(), execution, progress, cancellationToken: _options.CancellationToken);
        log.Info(FormattableString.Invariant($"merged {merged.Tensors.Count} tensors"));
        if (Stage is null) return (merged, null);
        var stage = Stage.Create(seed);
        // A stage that takes labels reads the label column (it must be there); a few-shot stage reads it when the view has
        // it, to balance its draw per class as a recipe's fit does (the labels never enter its loss); the rest see
        // unlabeled rows whatever the view holds.
        string labelColumn = Stage.Options.LabelColumnName;
        string? labels = stage.Consumes == DataRequirement.LabeledValidation ? labelColumn
            : stage is IFewShotAlignmentEstimator { ShotsPerClass: > 0 } && input.Schema.GetColumnOrNull(labelColumn) is not null ? labelColumn
            : null;
        var data = DataViewReader.Read(input, Family, _options.Task, labels,
            $"the labels {Stage.Name} takes here; {nameof(AlignmentOptions.LabelColumnName)} names another column");
        log.Info(FormattableString.Invariant($"fitting {Stage.Name} on {data.Values.Sum(d => d.Count)} {(labels is null ? "" : "labeled ")}rows of {data.Count} tasks"));
        // A transformer serving one task fits its stage for that task alone (the view holds that task's rows only).
        var served = _options.Task is { } one ? merged.ForTasks([one]) : merged;
        var aligned = stage.Fit(served, new MergeInputs(Family.Family, data), progress, _options.CancellationToken);
        log.Info(FormattableString.Invariant($"fitted {Stage.Name}: {aligned.State.Count} state tensors"));
        return (merged, aligned);
    }

    /// <summary>The columns the chain adds (<see cref="MergeColumns"/>), known before fitting.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return MergedChain.OutputSchema(_ml, Family, Tasks, _options.Task is not null, SharedEncoder, inputSchema);
    }

    /// <summary>This estimator as a recipe (YAML): the family's base, models and head pattern, the method with its
    /// parameters and per-model parameters, the seed (<see cref="MergeOptions.Seed"/>, or the one drawn from the
    /// <c>MLContext</c> when the estimator was made: the seed its <see cref="Fit"/> uses, so the recipe reproduces the fit)
    /// and the alignment stage under <c>align.stages</c>.
    /// <see cref="MergingCatalog.FromRecipe"/> reads it back into an equal estimator; the task a transformer serves
    /// (<see cref="MergeOptions.Task"/>) is not part of a recipe, so pass it to <c>FromRecipe</c> again.</summary>
    /// <param name="recipeDirectory">The folder the recipe will be saved in: checkpoint paths are written relative to it.</param>
    /// <exception cref="InvalidOperationException">The family was loaded with a <see cref="MergeFamilyOptions.ConfigPath"/>
    /// or <see cref="MergeFamilyOptions.ClassNames"/>, which a recipe does not carry.</exception>
    public string ToRecipeYaml(string recipeDirectory)
    {
        ArgumentNullException.ThrowIfNull(recipeDirectory);
        return RecipeEstimators.ToYaml(this, recipeDirectory);
    }

    /// <summary>The merge parameters: the options' declared values and each task's per-model parameters.</summary>
    internal MergeParameters Parameters()
    {
        var perModel = Family.TaskNames.Select(_options.ModelParameters).ToList();
        return new MergeParameters(Method, _options.RecipeParameters(), perModel);
    }

    /// <summary>A seed from the context's random source (<c>new MLContext(seed: s)</c> makes it reproducible).</summary>
    private ulong DrawSeed() => (ulong)((IHostEnvironment)_ml).Register(nameof(MergeEstimator)).Rand.NextInt64();
}
