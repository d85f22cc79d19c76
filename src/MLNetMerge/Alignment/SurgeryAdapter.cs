namespace MLNetMerge.Alignment;

/// <summary>
/// A task's Representation Surgery module as an exported graph runs it between the embedding and the head:
/// <c>z' = z − B · ReLU(A z)</c>, a residual bottleneck of width r (Yang et al. 2024, arXiv:2402.02705).
/// </summary>
/// <param name="Down">A (r, E), row-major.</param>
/// <param name="Up">B (E, r), row-major.</param>
/// <param name="Rank">r.</param>
internal sealed record SurgeryAdapter(float[] Down, float[] Up, int Rank);
