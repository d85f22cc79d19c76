using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.LoadCheck;

/// <summary>Scores rows with a model through a PredictionEngine and through Transform, and serializes both the same way.</summary>
public static class ModelScoring
{
    /// <summary>
    /// JSON <c>{"predictionEngine": [...], "transform": [...]}</c>, each row an object of the model's output columns
    /// among <see cref="ScoredRow"/>'s (floats in shortest round-trip form, so equal text means equal bits).
    /// </summary>
    public static string Score(MLContext ml, ITransformer model, IReadOnlyList<InputRow> rows)
    {
        var input = ml.Data.LoadFromEnumerable(rows);
        var output = model.GetOutputSchema(input.Schema);
        var definition = SchemaDefinition.Create(typeof(ScoredRow), SchemaDefinition.Direction.Read);
        definition.RemoveAll(c => output.GetColumnOrNull(c.ColumnName) is null);
        string[] columns = [.. definition.Select(c => c.ColumnName)];

        var engine = ml.Model.CreatePredictionEngine<InputRow, ScoredRow>(model, outputSchemaDefinition: definition);
        var predicted = rows.Select(r => Row(engine.Predict(r), columns)).ToList();
        var transformed = ml.Data.CreateEnumerable<ScoredRow>(model.Transform(input), reuseRowObject: false, schemaDefinition: definition)
            .Select(r => Row(r, columns)).ToList();
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["predictionEngine"] = predicted, ["transform"] = transformed });
    }

    private static Dictionary<string, object?> Row(ScoredRow r, string[] columns)
    {
        var row = new Dictionary<string, object?>();
        foreach (string c in columns)
            row[c] = c switch
            {
                "Embedding" => r.Embedding,
                "MergedScore" => r.MergedScore,
                "MergedLabelName" => r.MergedLabelName,
                "Score" => r.Score,
                "PredictedLabelName" => r.PredictedLabelName,
                "input_ids" => r.InputIds,
                "attention_mask" => r.AttentionMask,
                _ => null,
            };
        return row;
    }
}
