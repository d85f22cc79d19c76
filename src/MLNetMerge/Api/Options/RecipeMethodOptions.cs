using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>A merge as a recipe states it: the method's recipe name, its parameters and each model's parameters as
/// parsed (what <see cref="MergingCatalog.FromRecipe"/> builds; the typed Options classes cover the same ground by name).</summary>
internal sealed class RecipeMethodOptions : MergeOptions
{
    private readonly Dictionary<string, ParameterValue> _parameters;
    private readonly Dictionary<string, IReadOnlyDictionary<string, ParameterValue>> _perModel;

    public RecipeMethodOptions(string method, IReadOnlyDictionary<string, ParameterValue> parameters,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ParameterValue>> perModel)
    {
        MethodName = method;
        _parameters = new Dictionary<string, ParameterValue>(parameters, StringComparer.Ordinal);
        _perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(perModel, StringComparer.Ordinal);
    }

    internal override string MethodName { get; }

    internal override Dictionary<string, ParameterValue> RecipeParameters() => new(_parameters, StringComparer.Ordinal);

    internal override IReadOnlyDictionary<string, ParameterValue>? ModelParameters(string task) =>
        _perModel.TryGetValue(task, out var p) && p.Count > 0 ? p : base.ModelParameters(task);
}

/// <summary>An alignment stage as a recipe's <c>align.stages</c> entry states it: its name and parameters as parsed.</summary>
internal sealed class RecipeStageOptions(string method, IReadOnlyDictionary<string, ParameterValue> parameters) : AlignmentOptions
{
    private readonly Dictionary<string, ParameterValue> _parameters = new(parameters, StringComparer.Ordinal);

    internal override string MethodName { get; } = method;

    internal override Dictionary<string, ParameterValue> StageParameters() => new(_parameters, StringComparer.Ordinal);
}
