using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNetMerge.MLNet;

/// <summary>
/// <c>PredictedLabel</c> from a <c>Score</c> vector as savable ML.NET steps: a stateless CustomMapping takes the
/// argmax (the first maximum on ties; -1 for a row holding NaN) as a 0-based index, and <c>MapValue</c> (index → class name,
/// <c>treatValuesAsKeyType</c>) turns it into a key whose key values are the class names in class order, so key =
/// index + 1 like a trainer's PredictedLabel (0, the missing key, for a NaN row), and the zip holds the class names.
/// </summary>
internal static class PredictedLabelSteps
{
    /// <summary>Intermediate columns (dropped at the end).</summary>
    internal const string ScoreCopy = "predicted_label_score", Index = "predicted_label_index";

    /// <summary>The steps from <paramref name="scoreColumnName"/> to the key column <paramref name="outputColumnName"/>.</summary>
    /// <exception cref="ArgumentException">No class names, or repeated ones.</exception>
    public static IEstimator<ITransformer> Create(MLContext ml, IReadOnlyList<string> classNames, string scoreColumnName = "Score", string outputColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0 || classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            throw new ArgumentException($"PredictedLabel needs distinct class names; got {classNames.Count}: {string.Join(", ", classNames)}.", nameof(classNames));
        ml.ComponentCatalog.RegisterAssembly(typeof(PredictedLabelSteps).Assembly);
        var names = Enumerable.Range(0, classNames.Count).Select(i => new KeyValuePair<int, string>(i, classNames[i]));
        return ml.Transforms.CopyColumns(ScoreCopy, scoreColumnName)
            .Append(ml.Transforms.CustomMapping(new ArgMaxFactory().GetMapping(), ArgMaxFactory.Contract))
            .Append(ml.Transforms.Conversion.MapValue(outputColumnName, names, Index, treatValuesAsKeyType: true))
            .Append(ml.Transforms.DropColumns(ScoreCopy, Index));
    }
}

/// <summary>Input row of the argmax step.</summary>
internal sealed class ScoreRow
{
    [ColumnName(PredictedLabelSteps.ScoreCopy)]
    public float[] Score { get; set; } = [];
}

/// <summary>Output row of the argmax step.</summary>
internal sealed class ArgMaxRow
{
    [ColumnName(PredictedLabelSteps.Index)]
    public int Index { get; set; }
}

/// <summary>The stateless argmax step (contract saved in the zip).</summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class ArgMaxFactory : CustomMappingFactory<ScoreRow, ArgMaxRow>
{
    public const string Contract = "MLNetMerge.ArgMax.v1";

    public override Action<ScoreRow, ArgMaxRow> GetMapping() => (input, output) =>
    {
        var s = input.Score;
        int best = 0;
        for (int c = 1; c < s.Length; c++) if (s[c] > s[best]) best = c;
        // A NaN score (from a non-finite input) predicts nothing: -1 is in no class, so MapValue gives the missing key
        // (0), as ML.NET's trainers do, instead of the first class.
        for (int c = 0; c < s.Length; c++) if (float.IsNaN(s[c])) best = -1;
        output.Index = best;
    };
}
