namespace MLNetMerge.Recipes;

/// <summary>What the <c>export.mlnet</c> key of a recipe asks for: ML.NET model zips (saved with <c>mlContext.Model.Save</c>)
/// in the output's <c>mlnet/</c> folder, each with its generated consumption and training C#.</summary>
internal enum MLNetZipLayout
{
    /// <summary>No ML.NET zip (the key is absent).</summary>
    None,
    /// <summary><c>per_task</c>: one <c>{task}.zip</c> per task, columns <c>Embedding</c>, <c>Score</c>, <c>PredictedLabel</c>.</summary>
    PerTask,
    /// <summary><c>multi_head</c>: one <c>model.zip</c> serving every task, columns suffixed <c>.{task}</c>.</summary>
    MultiHead,
}
