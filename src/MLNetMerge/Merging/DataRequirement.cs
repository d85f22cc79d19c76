namespace MLNetMerge.Merging;

/// <summary>What a method consumes besides the checkpoints; tables mark transductive methods.</summary>
internal enum DataRequirement
{
    /// <summary>Nothing: data-free.</summary>
    None,
    /// <summary>Unlabeled test inputs (transductive).</summary>
    UnlabeledTest,
    /// <summary>A labeled validation split.</summary>
    LabeledValidation,
    /// <summary>Training data.</summary>
    Training,
}
