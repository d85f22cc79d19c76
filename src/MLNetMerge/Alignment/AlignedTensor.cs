namespace MLNetMerge.Alignment;

/// <summary>One learned tensor of an <see cref="AlignedModel"/>.</summary>
/// <param name="Name">Name, e.g. <c>fashion.classifier.weight</c>.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Values">Row-major values.</param>
internal sealed record AlignedTensor(string Name, int[] Shape, float[] Values);
