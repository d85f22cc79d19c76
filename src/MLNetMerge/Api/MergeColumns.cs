namespace MLNetMerge;

/// <summary>
/// The column names of MLNetMerge's estimators and transformers. Inputs: <see cref="PixelValues"/> (images: channels ×
/// height × width floats, planar, as <c>ExtractPixels(interleavePixelColors: false)</c> gives them; MLP families: the
/// feature vector), or <see cref="InputIds"/> and <see cref="AttentionMask"/> (text: int64, the family's sequence length).
/// Outputs of a one-task transformer: <see cref="Embedding"/> (the encoder's features; a stage's feature transform or
/// surgery module runs between them and the head), <see cref="Score"/>
/// (class probabilities) and <see cref="PredictedLabel"/> (a key whose key values are the task's class names); a
/// transformer serving every task suffixes <c>Score</c> and <c>PredictedLabel</c> with <c>.{task}</c>, and
/// <c>Embedding</c> too when the tasks run different weights (EMR).
/// </summary>
public static class MergeColumns
{
    /// <summary>Image or feature input.</summary>
    public const string PixelValues = "pixel_values";

    /// <summary>Token ids of a text family.</summary>
    public const string InputIds = "input_ids";

    /// <summary>Attention mask of a text family (1 = real token).</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>The embedding.</summary>
    public const string Embedding = "Embedding";

    /// <summary>Class probabilities.</summary>
    public const string Score = "Score";

    /// <summary>The predicted class, a key over the class names.</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>The task of each row, for fitting alignment stages of a transformer that serves every task.</summary>
    public const string Task = "Task";

    /// <summary>A column of <paramref name="task"/> in a transformer serving every task (<c>Score.fashion</c>).</summary>
    public static string ForTask(string column, string task) => $"{column}.{task}";
}
