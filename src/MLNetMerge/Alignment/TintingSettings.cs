using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>Recipe form of <see cref="TintingConfig"/>: <c>filter</c> (none | more_confident | disagree_more_confident),
/// <c>layer</c> (head | block index), <c>loss</c> (hard | soft | mse), <c>rounds</c>, <c>lr</c>, <c>batch</c>, <c>init</c>.</summary>
internal static class TintingSettings
{
    public const string Tinting = "tinting";
    public const string TintingPlusPlus = "tinting_plus_plus";

    public static string FilterText(TintingFilterRule r) => r switch
    {
        TintingFilterRule.None => "none",
        TintingFilterRule.MoreConfident => "more_confident",
        _ => "disagree_more_confident",
    };

    public static IReadOnlyDictionary<string, ParameterValue> ToParameters(TintingConfig o) => new Dictionary<string, ParameterValue>(StringComparer.Ordinal)
    {
        ["filter"] = new ParameterValue.Text(FilterText(o.EffectiveFilter)),
        ["layer"] = o.Block is int b ? new ParameterValue.Scalar(b) : new ParameterValue.Text("head"),
        ["loss"] = new ParameterValue.Text(o.Loss.ToString().ToLowerInvariant()),
        ["rounds"] = new ParameterValue.Scalar(o.Rounds),
        ["lr"] = new ParameterValue.Scalar(o.LearningRate),
        ["batch"] = new ParameterValue.Scalar(o.BatchSize),
        ["init"] = new ParameterValue.Scalar(o.InitialCoefficient),
    };

    /// <summary>The parameters of Model Tinting and Tinting++: the one declaration of their names, defaults, ranges and
    /// meaning (Tinting++'s filter default is the authors' code's rule, which produced the published numbers; the
    /// paper's text describes <c>more_confident</c>).</summary>
    public static IReadOnlyList<MethodParameter> Declared(string method) =>
    [
        method == TintingPlusPlus
            ? MethodParameter.Choice("filter", "Samples left out of the loss.", "disagree_more_confident", "more_confident", "none")
            : MethodParameter.Choice("filter", "Samples left out of the loss (Tinting++ filters; plain Tinting keeps all).", "none", "more_confident", "disagree_more_confident"),
        MethodParameter.Choice("layer", "Task-specific layer: each task's head, or the index of the transformer block duplicated per task.", "head"),
        MethodParameter.Choice("loss", "Loss against the individual model: cross-entropy to its pseudo-labels, to its probabilities, or MSE.", "hard", "soft", "mse"),
        MethodParameter.Integer("rounds", 500, "Rounds; each visits every task once in a shuffled order with one Adam step.", 1, 100_000_000),
        MethodParameter.Number("lr", 1e-2, "Adam learning rate for coefficients and task layers.", 1e-12, 10),
        MethodParameter.Integer("batch", 32, "Unlabeled examples per task step.", 1, 1_000_000),
        MethodParameter.Number("init", 0.3, "Initial value of every merge coefficient (clamped to [0, 1]).", -100, 100),
    ];

    /// <summary>Reads the stage's settings from its recipe parameters.</summary>
    /// <exception cref="RecipeException">An unknown key or value.</exception>
    public static TintingConfig FromParameters(string method, IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var p = new StageParameters(method, Declared(method), parameters);
        string filter = p.Choice("filter");
        var options = new TintingConfig
        {
            PlusPlus = filter != "none",
            FilterRule = filter switch { "more_confident" => TintingFilterRule.MoreConfident, "none" => TintingFilterRule.None, _ => TintingFilterRule.DisagreeAndMoreConfident },
            Block = p.ChoiceOrIndex("layer"),
            Loss = p.Choice("loss") switch { "soft" => TintingLossKind.Soft, "mse" => TintingLossKind.Mse, _ => TintingLossKind.Hard },
            Rounds = p.Integer("rounds"),
            LearningRate = p.Number("lr"),
            BatchSize = p.Integer("batch"),
            InitialCoefficient = p.Number("init"),
        };
        p.Finish();
        return options;
    }
}
