using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>Recipe form of <see cref="TintingOptions"/>: <c>filter</c> (none | more_confident | disagree_more_confident),
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

    public static IReadOnlyDictionary<string, ParameterValue> ToParameters(TintingOptions o) => new Dictionary<string, ParameterValue>(StringComparer.Ordinal)
    {
        ["filter"] = new ParameterValue.Text(FilterText(o.EffectiveFilter)),
        ["layer"] = o.Block is int b ? new ParameterValue.Scalar(b) : new ParameterValue.Text("head"),
        ["loss"] = new ParameterValue.Text(o.Loss.ToString().ToLowerInvariant()),
        ["rounds"] = new ParameterValue.Scalar(o.Rounds),
        ["lr"] = new ParameterValue.Scalar(o.LearningRate),
        ["batch"] = new ParameterValue.Scalar(o.BatchSize),
        ["init"] = new ParameterValue.Scalar(o.InitialCoefficient),
    };

    /// <exception cref="RecipeException">An unknown key or value.</exception>
    public static TintingOptions FromParameters(string method, IReadOnlyDictionary<string, ParameterValue> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        bool plus = method == TintingPlusPlus;
        var o = new TintingOptions { PlusPlus = plus };
        foreach (var (key, value) in p)
        {
            string Text() => value is ParameterValue.Text t ? t.Value : value is ParameterValue.Scalar s ? s.Value.ToString(CultureInfo.InvariantCulture)
                : throw new RecipeException(null, $"{method}: '{key}' must be a single value.");
            double Number() => value is ParameterValue.Scalar s ? s.Value
                : double.TryParse(Text(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
                : throw new RecipeException(null, $"{method}: '{key}' must be a number, got '{Text()}'.");
            o = key switch
            {
                "filter" => Text() switch
                {
                    "none" => With(o, false, o.FilterRule),
                    "more_confident" => With(o, true, TintingFilterRule.MoreConfident),
                    "disagree_more_confident" => With(o, true, TintingFilterRule.DisagreeAndMoreConfident),
                    var x => throw new RecipeException(null, $"{method}: filter '{x}' is not one of none, more_confident, disagree_more_confident."),
                },
                "layer" => Text() == "head" ? Copy(o, block: null)
                    : int.TryParse(Text(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int blk) && blk >= 0 ? Copy(o, block: blk)
                    : throw new RecipeException(null, $"{method}: layer must be 'head' or a block index ≥ 0, got '{Text()}'."),
                "loss" => Copy(o, loss: Text() switch
                {
                    "hard" => TintingLoss.Hard, "soft" => TintingLoss.Soft, "mse" => TintingLoss.Mse,
                    var x => throw new RecipeException(null, $"{method}: loss '{x}' is not one of hard, soft, mse."),
                }),
                "rounds" => Copy(o, rounds: PositiveInt(method, key, Number())),
                "batch" => Copy(o, batch: PositiveInt(method, key, Number())),
                "lr" => Copy(o, lr: Number() > 0 ? Number() : throw new RecipeException(null, $"{method}: lr must be positive.")),
                "init" => Copy(o, init: Number()),
                _ => throw new RecipeException(null, $"{method}: unknown parameter '{key}' (expected filter, layer, loss, rounds, lr, batch, init)."),
            };
        }
        return o;
    }

    private static int PositiveInt(string method, string key, double v) =>
        v >= 1 && v == Math.Floor(v) && v <= int.MaxValue ? (int)v : throw new RecipeException(null, $"{method}: {key} must be a positive integer, got {v}.");

    private static TintingOptions With(TintingOptions o, bool plus, TintingFilterRule rule) => new()
    {
        PlusPlus = plus, FilterRule = rule, Block = o.Block, Loss = o.Loss, Rounds = o.Rounds, LearningRate = o.LearningRate,
        BatchSize = o.BatchSize, InitialCoefficient = o.InitialCoefficient,
    };

    private static TintingOptions Copy(TintingOptions o, int? block = -1, TintingLoss? loss = null, int? rounds = null, int? batch = null, double? lr = null, double? init = null) => new()
    {
        PlusPlus = o.PlusPlus, FilterRule = o.FilterRule, Block = block == -1 ? o.Block : block, Loss = loss ?? o.Loss,
        Rounds = rounds ?? o.Rounds, LearningRate = lr ?? o.LearningRate, BatchSize = batch ?? o.BatchSize,
        InitialCoefficient = init ?? o.InitialCoefficient,
    };
}
