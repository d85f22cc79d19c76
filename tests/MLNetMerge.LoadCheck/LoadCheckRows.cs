using Microsoft.ML.Data;

namespace MLNetMerge.LoadCheck;

/// <summary>A row to score: the input columns of the checked chains (an image path and label, or a text).</summary>
public sealed class InputRow
{
    /// <summary>Image file, relative to the image folder saved in the model.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>Class name (the chains map it to a key; unknown names become the missing key).</summary>
    public string Label { get; set; } = "";

    /// <summary>Text to tokenize.</summary>
    public string Text { get; set; } = "";
}

/// <summary>The output columns the checks compare; those a model lacks are left out of its schema definition.</summary>
public sealed class ScoredRow
{
    /// <summary>The merged encoder's embedding (the merge transformer's <c>Embedding</c>).</summary>
    public float[]? Embedding { get; set; }

    /// <summary>The merged head's probabilities, copied aside before a trainer adds its own <c>Score</c>.</summary>
    public float[]? MergedScore { get; set; }

    /// <summary>The merged head's predicted class name (MapKeyToValue of the merge transformer's PredictedLabel).</summary>
    public string? MergedLabelName { get; set; }

    /// <summary>Probabilities: the trainer's, or the merged head's when no trainer follows.</summary>
    public float[]? Score { get; set; }

    /// <summary>Predicted class name (MapKeyToValue of the trainer's PredictedLabel).</summary>
    public string? PredictedLabelName { get; set; }

    /// <summary>Token ids.</summary>
    [ColumnName("input_ids")] public long[]? InputIds { get; set; }

    /// <summary>Attention mask.</summary>
    [ColumnName("attention_mask")] public long[]? AttentionMask { get; set; }
}
