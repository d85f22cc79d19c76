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
    /// <summary>Encoder embedding.</summary>
    [ColumnName("embedding")] public float[]? Embedding { get; set; }

    /// <summary>Encoder logits.</summary>
    [ColumnName("logits")] public float[]? Logits { get; set; }

    /// <summary>Trainer probabilities.</summary>
    public float[]? Score { get; set; }

    /// <summary>Predicted class name (MapKeyToValue of the trainer's PredictedLabel).</summary>
    public string? PredictedLabelName { get; set; }

    /// <summary>Token ids.</summary>
    [ColumnName("input_ids")] public long[]? InputIds { get; set; }

    /// <summary>Attention mask.</summary>
    [ColumnName("attention_mask")] public long[]? AttentionMask { get; set; }
}
