using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>
/// A merge method with its parameters: a cheap description; <see cref="Fit"/> does the work and returns an immutable
/// <see cref="MergedModel"/> (ML.NET's estimator → transformer habit).
/// </summary>
internal interface IMergeEstimator
{
    /// <summary>The method.</summary>
    MergeMethod Method { get; }

    /// <summary>Global parameters as given (canonical names).</summary>
    IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <summary>Per-model parameters, keyed by task name (e.g. weights).</summary>
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>> ModelParameters { get; }

    /// <summary>Merges <paramref name="family"/> in memory.</summary>
    MergedModel Fit(ModelFamily family, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Composes an alignment stage after this merge.</summary>
    MergePipeline Append(IAlignmentEstimator next);
}

/// <summary>The estimator every <see cref="MergingCatalog"/> entry returns.</summary>
internal sealed class MergeEstimator : IMergeEstimator
{
    /// <summary>Creates an estimator; parameters are checked against the method's declarations now, not at <see cref="Fit"/>.</summary>
    /// <exception cref="RecipeException">Unknown parameter or bad value.</exception>
    public MergeEstimator(MergeMethod method, IReadOnlyDictionary<string, ParameterValue>? parameters = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>>? modelParameters = null, ulong seed = 0)
    {
        Method = method;
        Parameters = parameters ?? new Dictionary<string, ParameterValue>();
        ModelParameters = modelParameters ?? new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>();
        Seed = seed;
        _ = new MergeParameters(method, Parameters, ModelParameters.Values.ToList());
    }

    /// <inheritdoc />
    public MergeMethod Method { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>> ModelParameters { get; }

    /// <summary>Seed for randomised methods.</summary>
    public ulong Seed { get; }

    /// <summary>Resolves the parameters for a family (per-model values matched by task name).</summary>
    public MergeParameters ParametersFor(ModelFamily family)
    {
        foreach (var name in ModelParameters.Keys)
            if (!family.TaskNames.Contains(name))
                throw new RecipeException(null, $"parameters were given for model '{name}', which is not in the family ({string.Join(", ", family.TaskNames)}).");
        var perModel = family.TaskNames.Select(t => ModelParameters.TryGetValue(t, out var p) ? p : null).ToList();
        return new MergeParameters(Method, Parameters, perModel);
    }

    /// <inheritdoc />
    public MergedModel Fit(ModelFamily family, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        MergeExecutor.RunInMemory(family, Method, ParametersFor(family), new MergeExecutionOptions { Seed = Seed }, progress, cancellationToken);

    /// <inheritdoc />
    public MergePipeline Append(IAlignmentEstimator next) => new(this, [next]);
}
